using TransformerCourse.Transformer;

namespace TransformerCourse.Modern;

/// <summary>How a <see cref="ModernGptModel"/> tells positions apart.</summary>
public enum PositionScheme
{
    /// <summary>A trained table of ContextLength position vectors added to the token embeddings (GPT-2).</summary>
    Learned,
    /// <summary>Queries and keys rotated by position (<see cref="RotaryEmbedding"/>; LLaMA, Mistral).</summary>
    Rope,
    /// <summary>A linear distance penalty added to the scores (<see cref="Alibi"/>; BLOOM, MPT).</summary>
    Alibi,
}

/// <summary>The normalisation before each sub-layer and at the end.</summary>
public enum NormKind
{
    /// <summary>TorchSharp's LayerNorm: mean and variance, gain and bias (2·d parameters).</summary>
    LayerNorm,
    /// <summary><see cref="RmsNorm"/>: root mean square only, gain only (d parameters).</summary>
    RmsNorm,
}

/// <summary>
/// The shape and parts of a decoder-only model whose building blocks can be swapped one at a time: positions, norm,
/// feed-forward network, key/value heads, attention window, biases. <see cref="Gpt2Style"/> and <see cref="LlamaStyle"/>
/// are the two ends. The output head always reuses the token embedding (weight tying), so the two styles differ only
/// in their blocks and positions.
/// </summary>
/// <param name="ContextLength">Longest input: the size of the learned position table, or, for RoPE and ALiBi (which
/// have no position parameters), only a guard.</param>
/// <param name="KvHeads">Key/value heads, a divisor of Heads (Heads = multi-head, 1 = multi-query).</param>
/// <param name="FeedForwardWidth">Hidden width of the feed-forward network (4·Width for GPT-2's GELU network; LLaMA's
/// SwiGLU uses about ⅔ of that, because it has three matrices).</param>
/// <param name="Window">Sliding attention window W (each query sees itself and the W − 1 keys before it); 0 = full causal.</param>
/// <param name="Bias">Biases in the attention and feed-forward projections (GPT-2 yes, LLaMA no; SwiGLU never has them).</param>
public sealed record ModernGptConfig(int VocabSize, int ContextLength, int Layers, int Heads, int Width, int KvHeads, int FeedForwardWidth,
    PositionScheme Positions, NormKind Norm, FeedForwardKind FeedForward, bool Bias, int Window = 0, double RopeBase = RotaryEmbedding.DefaultBase)
{
    public int HeadWidth => Width / Heads;

    /// <summary>GPT-2's block: learned positions, LayerNorm, GELU network 4·d wide, multi-head attention, biases.</summary>
    public static ModernGptConfig Gpt2Style(int vocabSize, int contextLength, int layers, int heads, int width) =>
        new ModernGptConfig(vocabSize, contextLength, layers, heads, width, heads, 4 * width, PositionScheme.Learned, NormKind.LayerNorm,
            FeedForwardKind.Gelu, Bias: true).Validated();

    /// <summary>LLaMA's block (Touvron et al., 2023): RoPE, RMSNorm, SwiGLU, grouped-query attention, no biases.</summary>
    public static ModernGptConfig LlamaStyle(int vocabSize, int contextLength, int layers, int heads, int kvHeads, int width, int feedForwardWidth) =>
        new ModernGptConfig(vocabSize, contextLength, layers, heads, width, kvHeads, feedForwardWidth, PositionScheme.Rope, NormKind.RmsNorm,
            FeedForwardKind.SwiGlu, Bias: false).Validated();

    /// <summary>Throws ArgumentException naming the field when the configuration cannot be built.</summary>
    public ModernGptConfig Validated()
    {
        Require(VocabSize > 0, nameof(VocabSize), $"must be positive but is {VocabSize}");
        Require(ContextLength > 0, nameof(ContextLength), $"must be positive but is {ContextLength}");
        Require(Layers > 0, nameof(Layers), $"must be positive but is {Layers}");
        Require(Heads > 0, nameof(Heads), $"must be positive but is {Heads}");
        Require(Width > 0 && Width % Heads == 0, nameof(Width), $"({Width}) must be a positive multiple of Heads ({Heads})");
        Require(KvHeads > 0 && Heads % KvHeads == 0, nameof(KvHeads), $"({KvHeads}) must be a positive divisor of Heads ({Heads})");
        Require(FeedForwardWidth > 0, nameof(FeedForwardWidth), $"must be positive but is {FeedForwardWidth}");
        Require(Window >= 0, nameof(Window), $"must be 0 (full attention) or positive but is {Window}");
        Require(Positions != PositionScheme.Rope || HeadWidth % 2 == 0, nameof(Width),
            $"({Width}) / Heads ({Heads}) = {HeadWidth} must be even for RoPE, which rotates pairs of dimensions");
        Require(RopeBase > 1, nameof(RopeBase), $"must be greater than 1 but is {RopeBase}");
        return this;
    }

    static void Require(bool ok, string name, string message)
    {
        if (!ok) throw new ArgumentException($"ModernGptConfig.{name} {message}.", name);
    }
}
