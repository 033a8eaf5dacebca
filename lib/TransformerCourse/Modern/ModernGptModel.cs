using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Modern;

/// <summary>A pre-norm block: x + attn(norm(x)), then x + ffn(norm(x)), with the parts a <see cref="ModernGptConfig"/> names.</summary>
public sealed class ModernBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> norm1, norm2;
    private readonly ModernAttention attn;
    private readonly PositionwiseFeedForward ffn;

    public ModernBlock(ModernGptConfig config) : base(nameof(ModernBlock))
    {
        norm1 = ModernGptModel.Norm(config);
        attn = new ModernAttention(config);
        norm2 = ModernGptModel.Norm(config);
        ffn = new PositionwiseFeedForward(config.Width, config.FeedForwardWidth, config.FeedForward);
        RegisterComponents();
    }

    internal ModernAttention Attention => attn;
    internal nn.Module<Tensor, Tensor> AttentionNorm => norm1;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x + attn.forward(norm1.forward(x));
        x = x + ffn.forward(norm2.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A decoder-only language model built from swappable parts (<see cref="ModernGptConfig"/>): token embeddings, learned
/// positions only when the config asks for them, pre-norm <see cref="ModernBlock"/>s, a final norm and a tied output
/// head. Initialised as GPT-2 (N(0, 0.02), residual projections scaled by 1/√(2·layers)), so that a comparison with the
/// capstone's <c>GptModel</c> changes the blocks and nothing else. forward(tokens (B, T)) → logits (B, T, vocab).
/// </summary>
public sealed class ModernGptModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding;
    private readonly Embedding? positionEmbedding;
    private readonly ModuleList<ModernBlock> blocks;
    private readonly nn.Module<Tensor, Tensor> finalNorm;

    public ModernGptModel(ModernGptConfig config) : base(nameof(ModernGptModel))
    {
        Config = config.Validated();
        tokenEmbedding = nn.Embedding(config.VocabSize, config.Width);
        if (config.Positions == PositionScheme.Learned) positionEmbedding = nn.Embedding(config.ContextLength, config.Width);
        blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new ModernBlock(config)).ToArray());
        finalNorm = Norm(config);
        RegisterComponents();
        Initialize();
    }

    public ModernGptConfig Config { get; }

    public long ParameterCount => parameters().Sum(p => p.NumberOfElements);

    internal static nn.Module<Tensor, Tensor> Norm(ModernGptConfig config) =>
        config.Norm == NormKind.RmsNorm ? new RmsNorm(config.Width) : nn.LayerNorm(config.Width);

    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var x = Embed(tokens);
        foreach (var block in blocks) x = block.forward(x);
        return nn.functional.linear(finalNorm.forward(x), tokenEmbedding.weight!).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-entropy of next-token prediction, averaged over all positions.</summary>
    public Tensor Loss(Tensor tokens, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var logits = forward(tokens);
        return nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.reshape(-1)).MoveToOuterDisposeScope();
    }

    /// <summary>Attention weights (B, H, T, T) of one layer for <paramref name="tokens"/> (B, T), in evaluation mode.</summary>
    public Tensor AttentionWeights(Tensor tokens, int layer)
    {
        if (layer < 0 || layer >= blocks.Count) throw new ArgumentException($"layer must be in [0, {blocks.Count}) but is {layer}.", nameof(layer));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = Embed(tokens);
        for (int i = 0; i < layer; i++) x = blocks[i].forward(x);
        return blocks[layer].Attention.Weights(blocks[layer].AttentionNorm.forward(x)).MoveToOuterDisposeScope();
    }

    Tensor Embed(Tensor tokens)
    {
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, time");
        long t = tokens.shape[1];
        if (t > Config.ContextLength)
            throw new ArgumentException($"tokens has {t} positions, more than the context length {Config.ContextLength}" +
                (positionEmbedding is null ? "." : " (the learned position table has no rows beyond it)."), nameof(tokens));
        var x = tokenEmbedding.forward(tokens);
        if (positionEmbedding is not null) x = x + positionEmbedding.forward(arange(t, dtype: ScalarType.Int64, device: tokens.device));
        return x;
    }

    void Initialize()
    {
        using var noGrad = no_grad();
        var std = 0.02 / Math.Sqrt(2 * Config.Layers);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("bias", StringComparison.Ordinal)) p.zero_();
            else if (p.dim() >= 2)
            {
                bool residual = name.EndsWith("o_proj.weight", StringComparison.Ordinal) || name.EndsWith("ffn.linear2.weight", StringComparison.Ordinal);
                nn.init.normal_(p, 0, residual ? std : 0.02);
            }
        }
    }
}
