using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Analysis;

/// <summary>What one attention call over <see cref="Length"/> tokens cost, measured and counted.</summary>
/// <param name="MedianMilliseconds">Median wall-clock time of <see cref="ScaledDotProductAttention.Compute"/> over the rounds.</param>
/// <param name="FastestMilliseconds">The fastest round: load from other programs only ever adds time, so the minimum is the steadiest estimate of the work itself.</param>
/// <param name="WeightBytes">Bytes of the (n, n) weight tensor the call returned: its element count times its element size, read from the tensor.</param>
/// <param name="ResidentGrowthBytes">How much the process's resident memory grew while that result was alive (the operating system's count).</param>
/// <param name="MultiplyAdds">Counted multiply–adds of the two matrix products QKᵀ and AV: 2·n²·d.</param>
public sealed record AttentionCostPoint(int Length, double MedianMilliseconds, double FastestMilliseconds, long WeightBytes, long ResidentGrowthBytes, double MultiplyAdds);

/// <summary>
/// Lesson 1's cost measurement. Timings are interleaved: each round times every length once, so a burst of
/// load from another process lands on one round rather than on one length; the exponent is fitted per round
/// and the median over rounds is reported, beside the exponent of the fastest time per length.
/// </summary>
public sealed record AttentionCostMeasurement(IReadOnlyList<AttentionCostPoint> Points, IReadOnlyList<double> RoundExponents, double FastestExponent)
{
    /// <summary>Median over the rounds of the fitted time exponent k in t ≈ c·n^k.</summary>
    public double MedianExponent => Median(RoundExponents);

    internal static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}

public static class AttentionCost
{
    /// <summary>Multiply–adds of QKᵀ (n·n·d) and of weights·V (n·n·d) for one head of width d.</summary>
    public static double MultiplyAdds(long length, long width)
    {
        Guard.Positive(length, nameof(length));
        Guard.Positive(width, nameof(width));
        return 2.0 * length * length * width;
    }

    /// <summary>Resident memory of this process in bytes, as the operating system reports it.</summary>
    public static long ResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    /// <summary>
    /// Times self-attention on a random (1, n, width) input for every length, <paramref name="rounds"/> times
    /// (interleaved, after one warm-up), and measures the memory of the returned weights. The time exponent is
    /// fitted per round on the lengths of at least <paramref name="fitFrom"/>. <paramref name="threads"/> sets TorchSharp's
    /// thread count while measuring (restored afterwards); one thread keeps the timing steady on a shared machine.
    /// </summary>
    public static AttentionCostMeasurement Measure(int[] lengths, int width, int rounds, int fitFrom = 0, int seed = 0, int? threads = null)
    {
        if (threads is { } t) Guard.Positive(t, nameof(threads));
        int before = get_num_threads();
        if (threads is { } wanted) set_num_threads(wanted);
        try { return MeasureOn(lengths, width, rounds, fitFrom, seed); }
        finally { if (threads is not null) set_num_threads(before); }
    }

    static AttentionCostMeasurement MeasureOn(int[] lengths, int width, int rounds, int fitFrom, int seed)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (lengths.Length < 2) throw new ArgumentException($"Need at least 2 lengths to fit an exponent, got {lengths.Length}.", nameof(lengths));
        Guard.Positive(width, nameof(width));
        Guard.Positive(rounds, nameof(rounds));
        var fitted = Enumerable.Range(0, lengths.Length).Where(i => lengths[i] >= fitFrom).ToArray();
        if (fitted.Length < 2)
            throw new ArgumentException($"fitFrom = {fitFrom} leaves {fitted.Length} of the lengths [{string.Join(", ", lengths)}]; a fit needs at least 2.", nameof(fitFrom));
        var generator = new Generator((ulong)seed);
        var inputs = lengths.Select(n => randn([1, n, width], generator: generator)).ToArray();
        var times = new double[lengths.Length, rounds];
        try
        {
            using (no_grad())
            {
                foreach (var x in inputs) ScaledDotProductAttention.Compute(x, x, x).Dispose();   // warm-up
                for (int r = 0; r < rounds; r++)
                    for (int i = 0; i < lengths.Length; i++)
                    {
                        var watch = Stopwatch.StartNew();
                        ScaledDotProductAttention.Compute(inputs[i], inputs[i], inputs[i]).Dispose();
                        times[i, r] = watch.Elapsed.TotalMilliseconds;
                    }
                var points = new List<AttentionCostPoint>();
                for (int i = 0; i < lengths.Length; i++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    long before = ResidentBytes();
                    using var result = ScaledDotProductAttention.Compute(inputs[i], inputs[i], inputs[i]);
                    long grown = ResidentBytes() - before;
                    long weightBytes = result.Weights.NumberOfElements * result.Weights.ElementSize;
                    var roundTimes = Enumerable.Range(0, rounds).Select(r => times[i, r]).ToArray();
                    points.Add(new AttentionCostPoint(lengths[i], AttentionCostMeasurement.Median(roundTimes), roundTimes.Min(), weightBytes, grown,
                        MultiplyAdds(lengths[i], width)));
                }
                var xs = fitted.Select(i => (double)lengths[i]).ToArray();
                var exponents = Enumerable.Range(0, rounds)
                    .Select(r => PowerLawFit.FitUnchecked(xs, fitted.Select(i => times[i, r]).ToArray()).Exponent)
                    .ToArray();
                double fastest = PowerLawFit.FitUnchecked(xs, fitted.Select(i => points[i].FastestMilliseconds).ToArray()).Exponent;
                return new AttentionCostMeasurement(points, exponents, fastest);
            }
        }
        finally
        {
            foreach (var x in inputs) x.Dispose();
        }
    }
}
