using TransformerCourse.Transformer;

namespace TransformerCourse.Bert;

/// <summary>
/// The shape of a BERT encoder (Devlin et al., 2019): <see cref="Layers"/> Post-LN encoder blocks of width
/// <see cref="Width"/> with <see cref="Heads"/> heads and a GELU feed-forward of width <see cref="FeedForwardWidth"/>,
/// learned positions up to <see cref="MaxLength"/> and <see cref="Segments"/> segment (A/B) embeddings.
/// BERT-base is 12 layers, width 768, 12 heads, d_ff 3072, 512 positions, a 30,522-token WordPiece vocabulary.
/// </summary>
/// <param name="VocabSize">Tokens including the special ones ([PAD], [CLS], [SEP], [MASK]).</param>
/// <param name="Dropout">On the embeddings, inside every block, and before the NSP classifier (0.1 in BERT).</param>
/// <param name="Norm">Where each block's LayerNorm sits: Post-LN as in BERT (the default), or Pre-LN (Xiong et al., 2020),
/// which normalises each sublayer's input, keeps the residual path clean and adds one final LayerNorm after the last block.</param>
public sealed record BertConfig(int VocabSize, int Width = 128, int Heads = 4, int Layers = 2, int FeedForwardWidth = 512,
    int MaxLength = 64, double Dropout = 0.1, int Segments = 2, NormPlacement Norm = NormPlacement.Post)
{
    /// <summary>BERT-base (Devlin et al., 2019, §3): 110M parameters with its WordPiece vocabulary.</summary>
    public static BertConfig Base(int vocabSize = 30522) => new(vocabSize, 768, 12, 12, 3072, 512, 0.1);

    /// <summary>The course's mini-BERT: 2 layers, width 128, 4 heads, d_ff 512 — small enough to pretrain on two CPU cores in about two minutes.</summary>
    public static BertConfig Mini(int vocabSize, int maxLength = 64) => new(vocabSize, 128, 4, 2, 512, maxLength, 0.0);

    /// <summary>d_k = Width / Heads.</summary>
    public int HeadWidth => Width / Heads;

    /// <summary>Throws ArgumentException naming the field when the configuration cannot be built.</summary>
    public BertConfig Validated()
    {
        Require(VocabSize > 0, nameof(VocabSize), $"must be positive but is {VocabSize}");
        Require(Heads > 0, nameof(Heads), $"must be positive but is {Heads}");
        Require(Width > 0 && Width % Heads == 0, nameof(Width), $"({Width}) must be a positive multiple of Heads ({Heads})");
        Require(Layers > 0, nameof(Layers), $"must be positive but is {Layers}");
        Require(FeedForwardWidth > 0, nameof(FeedForwardWidth), $"must be positive but is {FeedForwardWidth}");
        Require(MaxLength > 0, nameof(MaxLength), $"must be positive but is {MaxLength}");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), $"must be in [0, 1) but is {Dropout}");
        Require(Segments > 0, nameof(Segments), $"must be positive but is {Segments}");
        return this;
    }

    static void Require(bool ok, string name, string message)
    {
        if (!ok) throw new ArgumentException($"BertConfig.{name} {message}.", name);
    }
}
