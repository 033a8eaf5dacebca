namespace TransformerCourse.EncoderFamily;

/// <summary>
/// Compares two arms of a small ablation that were each run with several seeds: the difference of their means against
/// the seed-to-seed spread (the largest range of one arm over its seeds). A difference no larger than the spread is
/// reported as within noise: with two seeds per arm that is all such a measurement can support.
/// </summary>
public sealed record SeedComparison(string A, string B, double MeanA, double MeanB, double Spread)
{
    public double Difference => MeanA - MeanB;

    /// <summary>True when |mean A − mean B| exceeds the seed-to-seed spread.</summary>
    public bool Beyond => Math.Abs(Difference) > Spread;

    public static SeedComparison Of(string a, IReadOnlyList<double> valuesA, string b, IReadOnlyList<double> valuesB)
    {
        if (valuesA.Count == 0 || valuesB.Count == 0) throw new ArgumentException("each arm needs at least one value.", valuesA.Count == 0 ? nameof(valuesA) : nameof(valuesB));
        double spread = Math.Max(valuesA.Max() - valuesA.Min(), valuesB.Max() - valuesB.Min());
        return new SeedComparison(a, b, valuesA.Average(), valuesB.Average(), spread);
    }

    /// <summary>One line: the two means, the difference, the spread and the verdict.</summary>
    public string Describe(string what, string format = "0.000") =>
        $"{what}: {A} {MeanA.ToString(format)} vs {B} {MeanB.ToString(format)}, difference {Difference.ToString("+" + format + ";-" + format)}; " +
        $"seed-to-seed spread {Spread.ToString(format)} → " + (Beyond ? "larger than the spread" : "within the spread (noise at this scale)");
}
