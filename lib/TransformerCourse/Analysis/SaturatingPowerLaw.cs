using TransformerCourse.Exercises;

namespace TransformerCourse.Analysis;

/// <summary>L(x) = E + A·x^(−α): a power law that levels off at a floor E (the loss no model size can beat).</summary>
public sealed record SaturatingPowerLaw(double Floor, double Coefficient, double Exponent)
{
    public double Predict(double x) => Floor + Coefficient * Math.Pow(x, -Exponent);
}

/// <summary>
/// A fitted <see cref="SaturatingPowerLaw"/> with its uncertainty: standard errors from the linearised covariance, and a
/// residual bootstrap (refits on the fitted curve plus resampled residuals) for intervals and prediction bands.
/// The fit minimises Σ (ln yᵢ − ln(E + A·xᵢ^(−α)))², least squares on the log scale, so every point counts by its
/// relative error.
/// </summary>
public sealed record SaturatingPowerLawFit(SaturatingPowerLaw Law, double FloorError, double ExponentError, double CoefficientRelativeError,
    double RmsLogResidual, double[] X, double[] Y, IReadOnlyList<SaturatingPowerLaw> Bootstrap)
{
    /// <summary>Percentile interval of the exponent over the bootstrap refits.</summary>
    public (double Low, double High) ExponentInterval(double level = 0.95) => Interval(Bootstrap.Select(b => b.Exponent), level);

    /// <summary>Percentile interval of the floor over the bootstrap refits.</summary>
    public (double Low, double High) FloorInterval(double level = 0.95) => Interval(Bootstrap.Select(b => b.Floor), level);

    /// <summary>Percentile band of the fitted curve at <paramref name="x"/> over the bootstrap refits (where the law can be, not where a new point will fall).</summary>
    public (double Low, double High) Band(double x, double level = 0.95) => Interval(Bootstrap.Select(b => b.Predict(x)), level);

    /// <summary>Fits E, A and α to at least four points with x, y &gt; 0.</summary>
    /// <param name="bootstrap">Number of residual-bootstrap refits (0 for none).</param>
    public static SaturatingPowerLawFit Fit(IReadOnlyList<double> x, IReadOnlyList<double> y, int bootstrap = 400, int seed = 0)
    {
        RebuiltRoutines.Enter("SaturatingPowerLawFit.Fit");
        return FitUnchecked(x, y, bootstrap, seed);
    }

    /// <summary><see cref="Fit"/> for library code: not refused inside an exercise check.</summary>
    internal static SaturatingPowerLawFit FitUnchecked(IReadOnlyList<double> x, IReadOnlyList<double> y, int bootstrap = 400, int seed = 0)
    {
        if (x.Count != y.Count) throw new ArgumentException($"x has {x.Count} values but y has {y.Count}.", nameof(y));
        if (x.Count < 4)
            throw new ArgumentException($"E + A·x^(−α) has 3 parameters; a fit with an uncertainty needs at least 4 points, got {x.Count}.", nameof(x));
        int bad = Enumerable.Range(0, x.Count).FirstOrDefault(i => !(x[i] > 0 && y[i] > 0 && double.IsFinite(x[i]) && double.IsFinite(y[i])), -1);
        if (bad >= 0) throw new ArgumentException($"Point {bad} ({x[bad]}, {y[bad]}) is not positive and finite; the fit works on ln y and ln x.", nameof(x));
        if (x.Distinct().Count() < 3) throw new ArgumentException($"x needs at least 3 distinct values, got {x.Distinct().Count()}.", nameof(x));
        if (bootstrap < 0) throw new ArgumentOutOfRangeException(nameof(bootstrap), bootstrap, "bootstrap must be 0 or more.");

        var xs = x.ToArray();
        var ys = y.ToArray();
        var best = FitOnce(xs, ys, null);
        var errors = best.StandardErrors();
        var law = ToLaw(best.Parameters);
        var fitted = xs.Select(law.Predict).ToArray();

        // Residual bootstrap on the log scale; residuals inflated by √(n/(n−p)) for the fitted degrees of freedom.
        var random = new Random(seed);
        double inflate = Math.Sqrt(xs.Length / (double)(xs.Length - 3));
        var residuals = best.Residuals.Select(r => r * inflate).ToArray();
        var refits = new List<SaturatingPowerLaw>(bootstrap);
        for (int b = 0; b < bootstrap; b++)
        {
            var yb = fitted.Select(f => f * Math.Exp(residuals[random.Next(residuals.Length)])).ToArray();
            refits.Add(ToLaw(FitOnce(xs, yb, best.Parameters).Parameters));
        }
        double rms = Math.Sqrt(best.SumOfSquares / xs.Length);
        return new SaturatingPowerLawFit(law, errors[0], errors[2], errors[1], rms, xs, ys, refits);
    }

    static SaturatingPowerLaw ToLaw(double[] theta) => new(theta[0], Math.Exp(theta[1]), theta[2]);

    /// <summary>θ = (E, ln A, α). Starts from the best point of a profile over E (a straight-line fit of ln(y − E) on ln x for
    /// each E), unless a start is given, then refines all three with Levenberg–Marquardt.</summary>
    static LeastSquaresResult FitOnce(double[] x, double[] y, double[]? start)
    {
        double minY = y.Min();
        var lower = new[] { 0.0, -60.0, 1e-4 };
        var upper = new[] { minY * (1 - 1e-9), 60.0, 5.0 };
        var lx = x.Select(v => Math.Log(v)).ToArray();
        var ly = y.Select(v => Math.Log(v)).ToArray();
        double[] Residuals(double[] t) => lx.Select((l, i) => ly[i] - Math.Log(t[0] + Math.Exp(t[1] - t[2] * l))).ToArray();
        if (start is null)
        {
            double bestSse = double.PositiveInfinity;
            start = [0, 0, 0.1];
            for (int g = 0; g < 100; g++)
            {
                double e = minY * 0.99 * g / 100;
                var fit = PowerLawFit.FitUnchecked(x, y.Select(v => v - e).ToArray());
                var t = new[] { e, Math.Log(fit.Coefficient), Math.Clamp(-fit.Exponent, lower[2], upper[2]) };
                t[1] = Math.Clamp(t[1], lower[1], upper[1]);
                double sse = Residuals(t).Sum(r => r * r);
                if (sse < bestSse) (bestSse, start) = (sse, t);
            }
        }
        return LeastSquares.Minimize(Residuals, start, lower, upper);
    }

    internal static (double Low, double High) Interval(IEnumerable<double> values, double level)
    {
        if (level is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(level), level, "level must be between 0 and 1.");
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0) return (double.NaN, double.NaN);
        double tail = (1 - level) / 2;
        return (Quantile(sorted, tail), Quantile(sorted, 1 - tail));
    }

    static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
