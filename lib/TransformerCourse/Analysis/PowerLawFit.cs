using TransformerCourse.Exercises;

namespace TransformerCourse.Analysis;

/// <summary>y ≈ c · x^exponent, fitted by least squares on log y against log x.</summary>
public sealed record PowerLawFit(double Exponent, double Coefficient)
{
    public double Predict(double x) => Coefficient * Math.Pow(x, Exponent);

    public static PowerLawFit Fit(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        RebuiltRoutines.Enter("PowerLawFit.Fit");
        return FitUnchecked(x, y);
    }

    /// <summary><see cref="Fit"/> for library code: the same fit, not refused inside an exercise check.</summary>
    internal static PowerLawFit FitUnchecked(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count)
            throw new ArgumentException($"x has {x.Count} values but y has {y.Count}.", nameof(y));
        if (x.Count < 2) throw new ArgumentException($"A fit needs at least 2 points, got {x.Count}.", nameof(x));
        int bad = Enumerable.Range(0, x.Count).FirstOrDefault(i => !(x[i] > 0 && y[i] > 0), -1);
        if (bad >= 0) throw new ArgumentException($"Point {bad} ({x[bad]}, {y[bad]}) is not positive; a log-log fit needs x, y > 0.", nameof(x));
        var lx = x.Select(v => Math.Log(v)).ToArray();
        var ly = y.Select(v => Math.Log(v)).ToArray();
        double mx = lx.Average(), my = ly.Average();
        double sxy = lx.Zip(ly).Sum(p => (p.First - mx) * (p.Second - my));
        double sxx = lx.Sum(v => (v - mx) * (v - mx));
        if (sxx == 0) throw new ArgumentException("All x values are equal; the exponent is undefined.", nameof(x));
        double slope = sxy / sxx;
        return new PowerLawFit(slope, Math.Exp(my - slope * mx));
    }
}
