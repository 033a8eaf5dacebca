namespace TransformerCourse.Analysis;

/// <summary>
/// L(N, D) = E + A·N^(−α) + B·D^(−β): loss as a function of model size N and training tokens D, the parametric form of
/// Hoffmann et al. (2022, eq. 2). Their fit on MassiveText: E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28.
/// </summary>
public sealed record JointScalingLaw(double Floor, double A, double Alpha, double B, double Beta)
{
    /// <summary>Hoffmann et al. (2022), eq. 10 (their approach 3), in nats per token of their tokenizer.</summary>
    public static JointScalingLaw Chinchilla { get; } = new(1.69, 406.4, 0.34, 410.7, 0.28);

    public double Predict(double n, double d) => Floor + A * Math.Pow(n, -Alpha) + B * Math.Pow(d, -Beta);
}

/// <summary>A fitted <see cref="JointScalingLaw"/>: least squares on ln L, with a residual bootstrap for intervals.</summary>
public sealed record JointScalingLawFit(JointScalingLaw Law, double RmsLogResidual, IReadOnlyList<JointScalingLaw> Bootstrap)
{
    /// <summary>Percentile band of the prediction at (n, d) over the bootstrap refits.</summary>
    public (double Low, double High) Band(double n, double d, double level = 0.95) =>
        SaturatingPowerLawFit.Interval(Bootstrap.Select(b => b.Predict(n, d)), level);

    /// <summary>Fits E, A, α, B, β to points (N, D, L); needs at least 6 points with at least 2 distinct N and 2 distinct D.</summary>
    public static JointScalingLawFit Fit(IReadOnlyList<(double N, double D, double Loss)> points, int bootstrap = 200, int seed = 0)
    {
        if (points.Count < 6) throw new ArgumentException($"E + A·N^(−α) + B·D^(−β) has 5 parameters; a fit needs at least 6 points, got {points.Count}.", nameof(points));
        int bad = Enumerable.Range(0, points.Count).FirstOrDefault(i => !(points[i].N > 0 && points[i].D > 0 && points[i].Loss > 0), -1);
        if (bad >= 0) throw new ArgumentException($"Point {bad} {points[bad]} is not positive; N, D and the loss must all be > 0.", nameof(points));
        if (points.Select(p => p.N).Distinct().Count() < 2 || points.Select(p => p.D).Distinct().Count() < 2)
            throw new ArgumentException("The points need at least 2 distinct model sizes N and 2 distinct token counts D.", nameof(points));
        if (bootstrap < 0) throw new ArgumentOutOfRangeException(nameof(bootstrap), bootstrap, "bootstrap must be 0 or more.");
        var pts = points.ToArray();
        var best = FitOnce(pts, pts.Select(p => p.Loss).ToArray(), null);
        var law = ToLaw(best.Parameters);
        var fitted = pts.Select(p => law.Predict(p.N, p.D)).ToArray();
        var random = new Random(seed);
        double inflate = Math.Sqrt(pts.Length / (double)(pts.Length - 5));
        var residuals = best.Residuals.Select(r => r * inflate).ToArray();
        var refits = new List<JointScalingLaw>(bootstrap);
        for (int b = 0; b < bootstrap; b++)
        {
            var yb = fitted.Select(f => f * Math.Exp(residuals[random.Next(residuals.Length)])).ToArray();
            refits.Add(ToLaw(FitOnce(pts, yb, best.Parameters).Parameters));
        }
        return new JointScalingLawFit(law, Math.Sqrt(best.SumOfSquares / pts.Length), refits);
    }

    static JointScalingLaw ToLaw(double[] t) => new(t[0], Math.Exp(t[1]), t[2], Math.Exp(t[3]), t[4]);

    /// <summary>θ = (E, ln A, α, ln B, β); without a start, Levenberg–Marquardt from a small grid of starts, keeping the best.</summary>
    static LeastSquaresResult FitOnce((double N, double D, double Loss)[] pts, double[] y, double[]? start)
    {
        double minY = y.Min();
        var lower = new[] { 0.0, -60.0, 1e-3, -60.0, 1e-3 };
        var upper = new[] { minY * (1 - 1e-9), 60.0, 3.0, 60.0, 3.0 };
        var ln = pts.Select(p => (N: Math.Log(p.N), D: Math.Log(p.D))).ToArray();
        var ly = y.Select(v => Math.Log(v)).ToArray();
        double[] Residuals(double[] t) => ln.Select((l, i) =>
            ly[i] - Math.Log(t[0] + Math.Exp(t[1] - t[2] * l.N) + Math.Exp(t[3] - t[4] * l.D))).ToArray();
        if (start is not null) return LeastSquares.Minimize(Residuals, start, lower, upper);
        double medianN = ln.Select(l => l.N).Order().ElementAt(ln.Length / 2), medianD = ln.Select(l => l.D).Order().ElementAt(ln.Length / 2);
        LeastSquaresResult? best = null;
        foreach (double e in new[] { 0.0, 0.3, 0.6, 0.85 })
            foreach (double alpha in new[] { 0.2, 0.6 })
                foreach (double beta in new[] { 0.2, 0.6 })
                {
                    double floor = e * minY, share = Math.Max(1e-3, (y.Average() - floor) / 2);
                    var t = new[] { floor, Math.Log(share) + alpha * medianN, alpha, Math.Log(share) + beta * medianD, beta };
                    t[1] = Math.Clamp(t[1], lower[1], upper[1]);
                    t[3] = Math.Clamp(t[3], lower[3], upper[3]);
                    var fit = LeastSquares.Minimize(Residuals, t, lower, upper);
                    if (best is null || fit.SumOfSquares < best.SumOfSquares) best = fit;
                }
        return best!;
    }
}
