using TransformerCourse.Transformer;

namespace TransformerCourse.EncoderFamily;

/// <summary>
/// The shape of an <see cref="EncoderVariant"/>: a BERT-style masked-language-model encoder with ALBERT's two
/// parameter savers as switches (Lan et al., 2020). <see cref="EmbeddingWidth"/> = 0 gives BERT's plain V×H token
/// table; a positive E factorises it into V×E and E×H. <see cref="DistinctLayers"/> = <see cref="Depth"/> gives every
/// layer its own weights; 1 shares one layer across the whole depth. No segment embeddings and no NSP head (as in
/// RoBERTa and ELECTRA); Pre-LN blocks with GELU and a final LayerNorm.
/// </summary>
public sealed record EncoderVariantConfig(int VocabSize, int Width = 64, int Heads = 4, int FeedForwardWidth = 256,
    int Depth = 4, int DistinctLayers = 4, int EmbeddingWidth = 0, int MaxLength = 64, double Dropout = 0.0)
{
    /// <summary>True when the token table is factorised (E &gt; 0).</summary>
    public bool Factorised => EmbeddingWidth > 0;

    /// <summary>The width of the token table and of the MLM head's output side: E when factorised, else H.</summary>
    public int TokenWidth => Factorised ? EmbeddingWidth : Width;

    /// <summary>BERT-like: plain embedding table, a distinct layer at every depth.</summary>
    public static EncoderVariantConfig Bert(int vocabSize, int width = 64, int depth = 4, int maxLength = 64) =>
        new(vocabSize, width, Heads: 4, FeedForwardWidth: 4 * width, Depth: depth, DistinctLayers: depth, MaxLength: maxLength);

    /// <summary>ALBERT-like: factorised embedding of width <paramref name="embeddingWidth"/>, one layer shared by all.</summary>
    public static EncoderVariantConfig Albert(int vocabSize, int embeddingWidth = 16, int width = 64, int depth = 4, int maxLength = 64) =>
        new(vocabSize, width, Heads: 4, FeedForwardWidth: 4 * width, Depth: depth, DistinctLayers: 1, EmbeddingWidth: embeddingWidth, MaxLength: maxLength);

    /// <summary>Throws ArgumentException naming the field when the configuration cannot be built.</summary>
    public EncoderVariantConfig Validated()
    {
        Require(VocabSize > 0, nameof(VocabSize), $"must be positive but is {VocabSize}");
        Require(Heads > 0, nameof(Heads), $"must be positive but is {Heads}");
        Require(Width > 0 && Width % Heads == 0, nameof(Width), $"({Width}) must be a positive multiple of Heads ({Heads})");
        Require(FeedForwardWidth > 0, nameof(FeedForwardWidth), $"must be positive but is {FeedForwardWidth}");
        Require(Depth > 0, nameof(Depth), $"must be positive but is {Depth}");
        Require(DistinctLayers > 0 && Depth % DistinctLayers == 0, nameof(DistinctLayers), $"({DistinctLayers}) must be positive and divide Depth ({Depth})");
        Require(EmbeddingWidth >= 0, nameof(EmbeddingWidth), $"must be 0 (no factorisation) or positive but is {EmbeddingWidth}");
        Require(MaxLength > 0, nameof(MaxLength), $"must be positive but is {MaxLength}");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), $"must be in [0, 1) but is {Dropout}");
        return this;
    }

    /// <summary>Closed-form parameter count, part by part (compare with the sum over the built model's parameters).</summary>
    public EncoderParameterCount ParameterCount()
    {
        long v = VocabSize, h = Width, e = TokenWidth;
        long tokens = Factorised ? FactorisedEmbedding.ParameterCount(v, e, h) : v * h;
        long positions = (long)MaxLength * h;
        long embeddingNorm = 2 * h;
        long layers = SharedLayerStack.ParameterCount(DistinctLayers, Width, FeedForwardWidth, NormPlacement.Pre, FeedForwardKind.Gelu);
        long finalNorm = 2 * h;
        long head = h * e + e + 2 * e + v;   // transform H→E' with bias, LayerNorm(E'), output bias (weights tied to the token table)
        return new EncoderParameterCount(tokens, positions + embeddingNorm, layers, finalNorm + head);
    }

    static void Require(bool ok, string name, string message)
    {
        if (!ok) throw new ArgumentException($"EncoderVariantConfig.{name} {message}.", name);
    }
}

/// <summary>Parameters of an <see cref="EncoderVariant"/>, by part.</summary>
/// <param name="TokenEmbedding">V·H, or V·E + E·H + H when factorised.</param>
/// <param name="PositionsAndNorm">P·H positions + the embedding LayerNorm's 2·H.</param>
/// <param name="Layers">DistinctLayers × one encoder layer.</param>
/// <param name="Head">Final LayerNorm + MLM head (its output weights are the token table, counted once).</param>
public sealed record EncoderParameterCount(long TokenEmbedding, long PositionsAndNorm, long Layers, long Head)
{
    public long Total => TokenEmbedding + PositionsAndNorm + Layers + Head;
}
