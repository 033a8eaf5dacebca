namespace TransformerCourse.Modern;

/// <summary>
/// The difference between two models' losses on the same evaluation batches, batch by batch: its mean, and the standard
/// error of that mean (sample standard deviation of the differences / √n). Pairing removes what the batches share (some
/// windows are harder for every model), so the error measures only how much the gap itself varies between batches.
/// It measures evaluation noise, not the spread between training seeds.
/// </summary>
public sealed record PairedGap(double Mean, double StandardError, int Batches)
{
    /// <summary>Gap of <paramref name="first"/> minus <paramref name="second"/>; positive when the first loss is higher.</summary>
    public static PairedGap Of(IReadOnlyList<double> first, IReadOnlyList<double> second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.Count != second.Count || first.Count < 2)
            throw new ArgumentException($"need two equally long lists of at least 2 batch losses, got {first.Count} and {second.Count}.", nameof(second));
        var d = first.Zip(second, (a, b) => a - b).ToArray();
        double mean = d.Average();
        double variance = d.Sum(x => (x - mean) * (x - mean)) / (d.Length - 1);
        return new PairedGap(mean, Math.Sqrt(variance / d.Length), d.Length);
    }
}
