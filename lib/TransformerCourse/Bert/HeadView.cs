using TransformerCourse.Plots;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>Where one attention head looks, averaged over the real (non-[PAD]) query positions of a sequence.</summary>
/// <param name="Special">Mean weight on [CLS] and [SEP] keys.</param>
/// <param name="Self">Mean weight on the query's own position.</param>
/// <param name="Previous">Mean weight on the position just before the query.</param>
/// <param name="Next">Mean weight on the position just after the query.</param>
/// <param name="MaxWeight">Mean of each row's largest weight (1 = every query looks at one key only).</param>
public sealed record HeadSummary(int Layer, int Head, double Special, double Self, double Previous, double Next, double MaxWeight);

/// <summary>Summaries of attention weights, for reading a head view with numbers instead of by eye.</summary>
public static class HeadView
{
    /// <summary>
    /// weights: one layer's attention (H, L, L) for one sequence; isSpecial (L) marks [CLS]/[SEP]; the first
    /// <paramref name="length"/> positions are real tokens.
    /// </summary>
    public static List<HeadSummary> Summarise(int layer, Tensor weights, bool[] isSpecial, int length)
    {
        Guard.RankExactly(weights, 3, nameof(weights), "heads, L, L");
        if (length < 2 || length > weights.shape[1])
            throw new ArgumentException($"length {length} must be between 2 and {weights.shape[1]} (weights {Guard.Shape(weights)}).", nameof(length));
        var w = weights.detach().cpu().to_type(ScalarType.Float64);
        var result = new List<HeadSummary>();
        for (int h = 0; h < w.shape[0]; h++)
        {
            var rows = Charts.ToRows(w[h]);
            double special = 0, self = 0, previous = 0, next = 0, max = 0;
            for (int q = 0; q < length; q++)
            {
                for (int k = 0; k < length; k++) if (isSpecial[k]) special += rows[q][k];
                self += rows[q][q];
                if (q > 0) previous += rows[q][q - 1];
                if (q + 1 < length) next += rows[q][q + 1];
                max += rows[q].Take(length).Max();
            }
            result.Add(new HeadSummary(layer, h, special / length, self / length, previous / (length - 1), next / (length - 1), max / length));
        }
        return result;
    }
}
