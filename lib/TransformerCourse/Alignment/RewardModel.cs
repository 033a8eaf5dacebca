using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>
/// A reward model: the GPT trunk (token + position embeddings, causal pre-LN blocks, final LayerNorm) with a scalar head
/// in place of the vocabulary head. The reward of a sequence is the head's output at its last position, the one
/// position that has attended to every token. The head starts at zero, so every sequence starts with reward 0 and the
/// Bradley–Terry loss starts at exactly ln 2.
/// forward(tokens (B, T)) → rewards (B).
/// </summary>
public sealed class RewardModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding, positionEmbedding;
    private readonly ModuleList<GptBlock> blocks;
    private readonly LayerNorm finalNorm;
    private readonly Linear head;

    public RewardModel(GptConfig config) : base(nameof(RewardModel))
    {
        Config = config.Validated();
        tokenEmbedding = nn.Embedding(config.VocabSize, config.Width);
        positionEmbedding = nn.Embedding(config.ContextLength, config.Width);
        blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new GptBlock(config)).ToArray());
        finalNorm = nn.LayerNorm(config.Width);
        head = nn.Linear(config.Width, 1);
        RegisterComponents();
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("bias", StringComparison.Ordinal)) p.zero_();
            else if (p.dim() >= 2) nn.init.normal_(p, 0, 0.02);
        }
        head.weight!.zero_();
    }

    public GptConfig Config { get; }

    public override Tensor forward(Tensor tokens)
    {
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, time");
        long t = tokens.shape[1];
        if (t > Config.ContextLength)
            throw new ArgumentException($"tokens has {t} positions, more than the context length {Config.ContextLength}.", nameof(tokens));
        using var scope = NewDisposeScope();
        var positions = arange(t, dtype: ScalarType.Int64, device: tokens.device);
        var x = tokenEmbedding.forward(tokens) + positionEmbedding.forward(positions);
        foreach (var block in blocks) x = block.forward(x, null);
        x = finalNorm.forward(x[.., -1]);
        return head.forward(x).squeeze(-1).MoveToOuterDisposeScope();
    }
}
