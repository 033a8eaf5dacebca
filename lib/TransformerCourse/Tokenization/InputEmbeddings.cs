using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.Tokenization;

/// <summary>
/// BERT's input layer (Devlin et al., 2019): for each position, the sum of a token embedding, a learned position
/// embedding and a segment (A/B) embedding, then LayerNorm. All three tables start as N(0, 0.02²), as in BERT.
/// forward(ids (B, L), segments (B, L)) → (B, L, width).
/// </summary>
public sealed class InputEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding token, position, segment;
    private readonly LayerNorm norm;

    public InputEmbeddings(int vocabSize, int maxLength, int width, int segments = 2) : base(nameof(InputEmbeddings))
    {
        Guard.Positive(vocabSize, nameof(vocabSize));
        Guard.Positive(maxLength, nameof(maxLength));
        Guard.Positive(width, nameof(width));
        Guard.Positive(segments, nameof(segments));
        (VocabSize, MaxLength, Width, Segments) = (vocabSize, maxLength, width, segments);
        token = nn.Embedding(vocabSize, width);
        position = nn.Embedding(maxLength, width);
        segment = nn.Embedding(segments, width);
        foreach (var table in new[] { token, position, segment })
            using (no_grad()) nn.init.normal_(table.weight!, 0, 0.02);
        norm = nn.LayerNorm(width);
        RegisterComponents();
    }

    public int VocabSize { get; }
    public int MaxLength { get; }
    public int Width { get; }
    public int Segments { get; }

    public Tensor TokenTable => token.weight!;
    public Tensor PositionTable => position.weight!;
    public Tensor SegmentTable => segment.weight!;

    /// <summary>The three embeddings added, before LayerNorm.</summary>
    public Tensor Sum(Tensor ids, Tensor segments)
    {
        Guard.RankExactly(ids, 2, nameof(ids), "batch, length");
        if (!ids.shape.SequenceEqual(segments.shape))
            throw new ArgumentException($"segments has shape {Guard.Shape(segments)} but ids has {Guard.Shape(ids)}.", nameof(segments));
        long length = ids.shape[1];
        if (length > MaxLength)
            throw new ArgumentException($"ids has length {length} (shape {Guard.Shape(ids)}) but maxLength is {MaxLength}.", nameof(ids));
        if (ids.numel() > 0 && (ids.min().item<long>() < 0 || ids.max().item<long>() >= VocabSize))
            throw new ArgumentException($"ids must lie in 0..{VocabSize - 1} but range over {ids.min().item<long>()}..{ids.max().item<long>()}.", nameof(ids));
        if (segments.numel() > 0 && (segments.min().item<long>() < 0 || segments.max().item<long>() >= Segments))
            throw new ArgumentException($"segments must lie in 0..{Segments - 1}.", nameof(segments));
        var positions = arange(length, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0);
        return token.forward(ids) + position.forward(positions) + segment.forward(segments);
    }

    public override Tensor forward(Tensor ids, Tensor segments) => norm.forward(Sum(ids, segments));
}
