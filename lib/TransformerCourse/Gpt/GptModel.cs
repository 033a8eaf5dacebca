using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>
/// A GPT-style decoder: token + learned position embeddings, pre-LN blocks, a final LayerNorm, and an
/// output head that reuses the token embedding matrix (weight tying; Press and Wolf, 2017), or, with
/// <see cref="GptConfig.TiedHead"/> false, a separate V × d output matrix without bias.
/// forward(tokens (B, T)) → logits (B, T, vocab).
/// </summary>
public sealed class GptModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding, positionEmbedding;
    private readonly Dropout embeddingDropout;
    private readonly ModuleList<GptBlock> blocks;
    private readonly LayerNorm finalNorm;
    private readonly Linear? head;

    public GptModel(GptConfig config) : base(nameof(GptModel))
    {
        RebuiltRoutines.Enter("new GptModel(...)");
        Config = config.Validated();
        tokenEmbedding = nn.Embedding(config.VocabSize, config.Width);
        positionEmbedding = nn.Embedding(config.ContextLength, config.Width);
        embeddingDropout = nn.Dropout(config.Dropout);
        blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new GptBlock(config)).ToArray());
        finalNorm = nn.LayerNorm(config.Width);
        if (!config.TiedHead) head = nn.Linear(config.Width, config.VocabSize, hasBias: false);
        RegisterComponents();
        Initialize();
    }

    public GptConfig Config { get; }

    /// <summary>Switch every attention layer between the fused kernel and the from-scratch path.</summary>
    public bool UseFusedAttention
    {
        get => blocks[0].Attention.UseFused;
        set { foreach (var b in blocks) b.Attention.UseFused = value; }
    }

    /// <summary>Parameters counted once (a tied head adds none, an untied one V × d). Position embeddings included.</summary>
    public long ParameterCount
    {
        get
        {
            RebuiltRoutines.Enter("GptModel.ParameterCount");
            return parameters().Sum(p => p.NumberOfElements);
        }
    }

    /// <summary>
    /// Token positions run through the blocks since the model was built (batch × new positions, summed over calls):
    /// an operation count for comparing generation with and without the KV cache.
    /// </summary>
    public long PositionsComputed { get; private set; }

    public override Tensor forward(Tensor tokens) => Forward(tokens, null);

    /// <summary>Logits for the new tokens; with a cache, positions continue after what it holds.</summary>
    public Tensor Forward(Tensor tokens, KvCache? cache)
    {
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, time");
        long past = cache?.Length ?? 0, t = tokens.shape[1];
        if (past + t > Config.ContextLength)
            throw new ArgumentException(
                $"tokens has {t} positions after {past} cached ones, more than the context length {Config.ContextLength}.", nameof(tokens));
        PositionsComputed += tokens.shape[0] * t;
        using var scope = NewDisposeScope();
        var positions = arange(past, past + t, dtype: ScalarType.Int64, device: tokens.device);
        var x = embeddingDropout.forward(tokenEmbedding.forward(tokens) + positionEmbedding.forward(positions));
        for (int i = 0; i < blocks.Count; i++) x = blocks[i].forward(x, cache?.Layers[i]);
        x = finalNorm.forward(x);
        var logits = head is null ? nn.functional.linear(x, tokenEmbedding.weight!) : head.forward(x);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Cross-entropy of next-token prediction, averaged over all positions.</summary>
    public Tensor Loss(Tensor tokens, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var logits = forward(tokens);
        return nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.reshape(-1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// GPT-2's initialisation: N(0, 0.02) weights, zero biases, and the projections that write into the
    /// residual stream scaled by 1/√(2·layers) so the stream's variance does not grow with depth.
    /// </summary>
    void Initialize()
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("bias", StringComparison.Ordinal)) p.zero_();
            else if (p.dim() >= 2) nn.init.normal_(p, 0, 0.02);
        }
        var std = 0.02 / Math.Sqrt(2 * Config.Layers);
        foreach (var b in blocks)
        {
            nn.init.normal_(b.Attention.OutputProjection.weight!, 0, std);
            nn.init.normal_(b.Mlp.OutputProjection.weight!, 0, std);
        }
    }
}
