using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>
/// ALBERT's factorised token embedding (Lan et al., 2020, §3.1): a small V×E table followed by an E×H projection,
/// instead of BERT's V×H table. forward(ids (B, L)) → (B, L, H). Parameters V·E + E·H + H (the projection has a bias),
/// which is far below V·H when E ≪ H and V is large.
/// </summary>
public sealed class FactorisedEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Embedding token;
    private readonly Linear projection;

    public FactorisedEmbedding(int vocabSize, int embeddingWidth, int width) : base(nameof(FactorisedEmbedding))
    {
        Guard.Positive(vocabSize, nameof(vocabSize));
        Guard.Positive(embeddingWidth, nameof(embeddingWidth));
        Guard.Positive(width, nameof(width));
        (VocabSize, EmbeddingWidth, Width) = (vocabSize, embeddingWidth, width);
        token = nn.Embedding(vocabSize, embeddingWidth);
        using (no_grad()) nn.init.normal_(token.weight!, 0, 0.02);
        projection = nn.Linear(embeddingWidth, width);
        RegisterComponents();
    }

    public int VocabSize { get; }
    public int EmbeddingWidth { get; }
    public int Width { get; }

    /// <summary>The V×E table (the MLM head ties its output layer to it).</summary>
    public Tensor TokenTable => token.weight!;

    /// <summary>V·E + E·H + H.</summary>
    public static long ParameterCount(long vocabSize, long embeddingWidth, long width)
    {
        RebuiltRoutines.Enter("FactorisedEmbedding.ParameterCount");
        return vocabSize * embeddingWidth + embeddingWidth * width + width;
    }

    public override Tensor forward(Tensor ids) => projection.forward(token.forward(ids));
}
