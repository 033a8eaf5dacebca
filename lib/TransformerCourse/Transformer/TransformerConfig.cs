namespace TransformerCourse.Transformer;

/// <summary>
/// The shape of an <see cref="EncoderDecoderTransformer"/>, in the paper's symbols: d_model = <see cref="Width"/>,
/// h = <see cref="Heads"/>, d_ff = <see cref="FeedForwardWidth"/>, N = <see cref="EncoderLayers"/> /
/// <see cref="DecoderLayers"/>, P_drop = <see cref="Dropout"/>. Positions are sinusoidal (no parameters) up to
/// <see cref="MaxLength"/>.
/// </summary>
/// <param name="VocabSize">One vocabulary shared by source and target.</param>
/// <param name="ShareEmbeddings">True (the paper): one V×d matrix is the source embedding, the target embedding
/// and the output layer. False: three separate V×d matrices (the output layer has no bias either way).</param>
/// <param name="Norm">Post-LN as in the paper, or Pre-LN (which adds a final LayerNorm to encoder and decoder).</param>
/// <param name="FeedForward">The FFN's non-linearity; ReLU in the paper.</param>
public sealed record TransformerConfig(
    int VocabSize, int Width = 512, int Heads = 8, int FeedForwardWidth = 2048, int EncoderLayers = 6, int DecoderLayers = 6,
    double Dropout = 0.1, int MaxLength = 512, bool ShareEmbeddings = true, NormPlacement Norm = NormPlacement.Post,
    FeedForwardKind FeedForward = FeedForwardKind.Relu)
{
    /// <summary>The paper's "base" model (Table 3): d_model 512, 8 heads, d_ff 2048, 6 + 6 layers, dropout 0.1,
    /// shared embeddings, Post-LN; with its shared 37,000-token byte-pair vocabulary by default.</summary>
    public static TransformerConfig Base(int vocabSize = 37000) => new(vocabSize);

    /// <summary>A CPU-sized model: d_model 64, 4 heads, d_ff 256, 2 + 2 layers, dropout 0.1 (≈ 237k parameters with a
    /// 58-token vocabulary). With the default <c>Seq2SeqTrainingOptions</c> it learns <c>SyntheticTranslation</c> to
    /// ≥ 99 % held-out exact match in 1000 steps (≈ 45 s on 2 CPU cores).</summary>
    public static TransformerConfig Small(int vocabSize, int maxLength = 32) =>
        new(vocabSize, Width: 64, Heads: 4, FeedForwardWidth: 256, EncoderLayers: 2, DecoderLayers: 2, Dropout: 0.1, MaxLength: maxLength);

    /// <summary>d_k = d_model / h.</summary>
    public int HeadWidth => Width / Heads;

    /// <summary>Throws ArgumentException naming the field when the configuration cannot be built.</summary>
    public TransformerConfig Validated()
    {
        Require(VocabSize > 0, nameof(VocabSize), $"must be positive but is {VocabSize}");
        Require(Heads > 0, nameof(Heads), $"must be positive but is {Heads}");
        Require(Width > 0 && Width % Heads == 0 && Width % 2 == 0, nameof(Width),
            $"({Width}) must be a positive even multiple of Heads ({Heads})");
        Require(FeedForwardWidth > 0, nameof(FeedForwardWidth), $"must be positive but is {FeedForwardWidth}");
        Require(EncoderLayers > 0, nameof(EncoderLayers), $"must be positive but is {EncoderLayers}");
        Require(DecoderLayers > 0, nameof(DecoderLayers), $"must be positive but is {DecoderLayers}");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), $"must be in [0, 1) but is {Dropout}");
        Require(MaxLength > 0, nameof(MaxLength), $"must be positive but is {MaxLength}");
        return this;
    }

    static void Require(bool ok, string name, string message)
    {
        if (!ok) throw new ArgumentException($"TransformerConfig.{name} {message}.", name);
    }
}
