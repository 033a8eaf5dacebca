using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 19 (Scaling Laws).</summary>
public static class Lesson19
{
    /// <summary>
    /// Exercise 1: the compute-optimal model size and token count for a FLOP budget C, with C ≈ 6·N·D and
    /// D = 20·N (Hoffmann et al., 2022). <c>yours(C)</c> returns (parameters N, tokens D).
    /// </summary>
    public static Verdict AllocateCompute(Func<double, (double Parameters, double Tokens)> yours) => Check("your AllocateCompute",
        "go back to the section \"Compute-optimal allocation\": how does the training compute depend on N and D, and what does the 20-tokens-per-parameter rule tie together?",
        () =>
        {
            var budgets = new (double Flops, string What)[]
            {
                (5.76e23, "Chinchilla's budget, 5.76e23 FLOPs"),
                (1e15, "1e15 FLOPs"),
                (7.3e12, "7.3e12 FLOPs (about our capstone's)"),
                (3.14e23, "GPT-3's budget, 3.14e23 FLOPs"),
            };
            foreach (var (flops, what) in budgets)
            {
                var (n, d) = Forbidding(["ComputeOptimal.Allocate"], () => yours(flops));
                double wantN = Math.Sqrt(flops / 120), wantD = 20 * wantN;
                bool Near(double a, double b) => double.IsFinite(a) && Math.Abs(a - b) <= 1e-6 * Math.Abs(b);
                if (Near(n, wantN) && Near(d, wantD)) continue;
                string result = $"for {what} it gives N = {n:G4}, D = {d:G4}";
                Expect(n != 0 || d != 0, $"{result}: the placeholder is still there.");
                Expect(!(Near(n, wantD) && Near(d, wantN)), $"{result}: N and D are swapped (a compute-optimal model sees more tokens than it has parameters).");
                Expect(!Near(n, Math.Sqrt(flops / 20)), $"{result}: N is √6 times too large: C counts 6 FLOPs per parameter per token (2 forward, 4 backward), not 1.");
                Expect(!Near(n, Math.Sqrt(flops / 40)), $"{result}: N is √3 times too large: 2 FLOPs per parameter per token is the forward pass only; training also pays for the backward pass.");
                Expect(!Near(n, flops / 120), $"{result}: N = C / 120 has the units of parameters × tokens over tokens only once; C grows with N·D = 20·N², so N grows with the square root of C.");
                Expect(!(Near(n, wantN) && Near(d, wantN / 20)), $"{result}: D = N / 20 inverts the rule: it is 20 tokens for every parameter.");
                Expect(!(Near(n, Math.Sqrt(flops * 20 / 6)) || Near(d, Math.Sqrt(flops / (6 * 20)) / 20)), $"{result}: the ratio is used upside down (D = 20·N, so C = 6·N·20·N).");
                Expect(Near(n, wantN), $"{result}: N should be {wantN:G4}; check that 6·N·D gives back the budget.");
                Expect(false, $"{result}: N is right but D should be {wantD:G4} (20 tokens per parameter).");
            }
        });

    /// <summary>
    /// Exercise 2: the exponent α of L = E + A·N^(−α) when the floor E is known, by a least-squares straight line through
    /// (ln N, ln(L − E)): α is minus its slope. <c>yours(n, loss, floor)</c> returns α.
    /// </summary>
    public static Verdict FitExponent(Func<double[], double[], double, double> yours) => Check("your FitExponent",
        "go back to the section \"Fitting the law\": which quantity falls along a straight line on a log–log plot, how is that line found from all the points, and how is α read from it?",
        () =>
        {
            var random = new Random(19);
            var cases = new List<(double[] N, double[] L, double E, string What)>();
            foreach (var (e, a, alpha, count) in new[] { (1.2, 9.0, 0.35, 6), (0.8, 40.0, 0.5, 7), (1.5, 3.0, 0.12, 5), (0.0, 12.0, 0.076, 8) })
            {
                var n = Enumerable.Range(0, count).Select(i => 3000 * Math.Pow(2.2, i)).ToArray();
                var l = n.Select(v => e + a * Math.Pow(v, -alpha) * Math.Exp(0.03 * (random.NextDouble() - 0.5))).ToArray();
                cases.Add((n, l, e, $"{count} points with E = {e}, α = {alpha} and a little noise"));
            }
            foreach (var (n, l, e, what) in cases)
            {
                double got = Forbidding(["PowerLawFit.Fit", "SaturatingPowerLawFit.Fit"], () => yours((double[])n.Clone(), (double[])l.Clone(), e));
                double want = -Slope(n.Select(v => Math.Log(v)), l.Select(v => Math.Log(v - e)));
                if (double.IsFinite(got) && Math.Abs(got - want) <= 1e-6 * Math.Max(1, Math.Abs(want))) continue;
                string result = $"for {what} it returns {got:0.0000}, but the least-squares α is {want:0.0000}";
                bool Is(double variant) => double.IsFinite(variant) && Math.Abs(got - variant) <= 1e-6 * Math.Max(1, Math.Abs(variant));
                Expect(got != 0, $"{result}: the placeholder is still there.");
                Expect(!Is(-want), $"{result}: the sign is flipped; the loss falls as N grows, so the slope is negative and α is minus the slope.");
                Expect(!Is(-Slope(n.Select(v => Math.Log(v)), l.Select(v => Math.Log(v)))) && !Is(Slope(n.Select(v => Math.Log(v)), l.Select(v => Math.Log(v)))),
                    $"{result}: the floor E was not subtracted; only L − E falls as a straight line on a log–log plot.");
                Expect(!Is(-1 / Slope(l.Select(v => Math.Log(v - e)), n.Select(v => Math.Log(v)))) && !Is(1 / Slope(l.Select(v => Math.Log(v - e)), n.Select(v => Math.Log(v)))),
                    $"{result}: the regression runs the wrong way round (ln N on ln(L − E)); fit ln(L − E) as the function of ln N.");
                double twoPoint = -(Math.Log(l[^1] - e) - Math.Log(l[0] - e)) / (Math.Log(n[^1]) - Math.Log(n[0]));
                Expect(!Is(twoPoint) && !Is(-twoPoint), $"{result}: it uses only the first and last points; a least-squares line uses every point.");
                Expect(!Is(-Slope(n, l.Select(v => Math.Log(v - e)))) && !Is(-Slope(n.Select(v => Math.Log(v)), l.Select(v => v - e))),
                    $"{result}: only one axis is on the log scale; a power law is a straight line when both are.");
                double logScale = LogLossExponent(n, l, e);
                Expect(!(double.IsFinite(got) && (Math.Abs(got - logScale) <= 1e-4 * Math.Max(1, Math.Abs(logScale)) || Math.Abs(got - want) <= 0.02 * Math.Abs(want))),
                    $"{result}: close, but that is a different objective (for example the error in ln L of the full three-number fit, with E held fixed); " +
                    "the exercise asks for ordinary least squares on the straight line of the log–log plot.");
                Expect(false, $"{result}.");
            }
        });

    /// <summary>The α that minimises Σ(ln L − ln(E + A·N^−α))² over A and α with E fixed: the full fit's objective.</summary>
    static double LogLossExponent(double[] n, double[] l, double e)
    {
        double start = -Slope(n.Select(v => Math.Log(v)), l.Select(v => Math.Log(v - e)));
        double lnA = l.Zip(n).Average(p => Math.Log(p.First - e) + start * Math.Log(p.Second));
        var fit = Analysis.LeastSquares.Minimize(
            t => n.Select((v, i) => Math.Log(l[i]) - Math.Log(e + Math.Exp(t[0]) * Math.Pow(v, -t[1]))).ToArray(),
            [lnA, start], [lnA - 20, 0], [lnA + 20, 5]);
        return fit.Parameters[1];
    }

    /// <summary>Least-squares slope of y on x.</summary>
    static double Slope(IEnumerable<double> x, IEnumerable<double> y)
    {
        var xs = x.ToArray();
        var ys = y.ToArray();
        double mx = xs.Average(), my = ys.Average();
        return xs.Zip(ys).Sum(p => (p.First - mx) * (p.Second - my)) / xs.Sum(v => (v - mx) * (v - mx));
    }
}
