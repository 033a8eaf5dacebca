using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>
/// Sentence embeddings by mean pooling (Reimers and Gurevych, 2019): average a sentence's final hidden vectors over
/// its real tokens (padding excluded), then compare sentences by cosine similarity.
/// </summary>
public static class MeanPooling
{
    /// <summary>Mean of hidden (B, L, H) over the positions where <paramref name="keep"/> (B, L) is true → (B, H).
    /// A row with no kept position gives zeros.</summary>
    public static Tensor Pool(Tensor hidden, Tensor keep)
    {
        RebuiltRoutines.Enter("MeanPooling.Pool");
        Guard.RankExactly(hidden, 3, nameof(hidden), "batch, length, width");
        if (!keep.shape.SequenceEqual(hidden.shape[..2]))
            throw new ArgumentException($"keep has shape {Guard.Shape(keep)} but hidden is {Guard.Shape(hidden)}; expected [{hidden.shape[0]}, {hidden.shape[1]}].", nameof(keep));
        var weights = keep.to_type(hidden.dtype).unsqueeze(-1);
        var counts = weights.sum(1).clamp_min(1.0);
        return (hidden * weights).sum(1) / counts;
    }

    /// <summary>Cosine similarity of every row of <paramref name="a"/> (N, H) with every row of <paramref name="b"/> (M, H) → (N, M).</summary>
    public static Tensor CosineSimilarity(Tensor a, Tensor b)
    {
        Guard.RankExactly(a, 2, nameof(a), "rows, width");
        Guard.RankExactly(b, 2, nameof(b), "rows, width");
        if (a.shape[1] != b.shape[1])
            throw new ArgumentException($"a has shape {Guard.Shape(a)} and b has {Guard.Shape(b)}: the widths differ.", nameof(b));
        var na = nn.functional.normalize(a, p: 2, dim: 1, eps: 1e-12);
        var nb = nn.functional.normalize(b, p: 2, dim: 1, eps: 1e-12);
        return matmul(na, nb.t());
    }

    /// <summary>The <paramref name="k"/> rows most similar to row <paramref name="query"/> of a similarity matrix,
    /// excluding the query itself, best first.</summary>
    public static List<(int Index, double Similarity)> Nearest(Tensor similarity, int query, int k)
    {
        Guard.RankExactly(similarity, 2, nameof(similarity), "rows, rows");
        if (query < 0 || query >= similarity.shape[0])
            throw new ArgumentException($"query {query} is outside 0..{similarity.shape[0] - 1}.", nameof(query));
        var row = similarity[query].to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        return row.Select((s, i) => (Index: i, Similarity: s)).Where(p => p.Index != query)
            .OrderByDescending(p => p.Similarity).ThenBy(p => p.Index).Take(k).ToList();
    }
}
