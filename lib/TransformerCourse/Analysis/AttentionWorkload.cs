using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Analysis;

/// <summary>
/// What one measurement child process runs (<c>course bench attention-memory</c>): random q, k, v of shape
/// (batch, heads, n, dim), then one attention implementation, forward only, without autograd. "none" is the
/// baseline: the same process, the same warm-up and the same q, k, v, but no attention at size n.
/// </summary>
public static class AttentionWorkload
{
    public static readonly string[] Implementations = ["none", "naive", "blocked", "fused"];

    /// <summary>
    /// Runs <paramref name="implementation"/> once and reads this process's peak resident memory right after that
    /// first call (so the peak is one call's, not a growing allocator cache's), then <paramref name="repeats"/> more
    /// times for the clock. Returns the peak (KiB) and the median milliseconds of the repeats (NaN for "none").
    /// </summary>
    public static (long PeakRssKb, double MedianMs) Run(string implementation, int n, int batch, int heads, int dim, int block, int repeats, Device device)
    {
        if (!Implementations.Contains(implementation))
            throw new ArgumentException($"implementation must be one of {string.Join(", ", Implementations)}, not '{implementation}'.", nameof(implementation));
        Guard.Positive(n, nameof(n)); Guard.Positive(batch, nameof(batch)); Guard.Positive(heads, nameof(heads));
        Guard.Positive(dim, nameof(dim)); Guard.Positive(block, nameof(block)); Guard.Positive(repeats, nameof(repeats));
        using var noGrad = no_grad();
        random.manual_seed(23);
        // Every child, the baseline included, first runs all three implementations on a tiny input, so thread
        // pools and kernels are loaded everywhere and only the size-n work differs between children.
        using (var scope = NewDisposeScope())
        {
            var tiny = randn([1, 1, 64, dim], device: device);
            foreach (var impl in Implementations[1..]) Attend(impl, tiny, tiny, tiny, block);
        }
        using var q = randn([batch, heads, n, dim], device: device);
        using var k = randn([batch, heads, n, dim], device: device);
        using var v = randn([batch, heads, n, dim], device: device);
        if (implementation == "none") return (PeakResidentKb(), double.NaN);
        long peak = 0;
        var times = new List<double>();
        for (int i = 0; i <= repeats; i++)
        {
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            var output = Attend(implementation, q, k, v, block);
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            if (i == 0) peak = PeakResidentKb();                 // the first call: its peak, before any repeat
            else times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (peak, times[times.Count / 2]);
    }

    static Tensor Attend(string implementation, Tensor q, Tensor k, Tensor v, int block) => implementation switch
    {
        "naive" => ScaledDotProductAttention.Compute(q, k, v).Output,
        "blocked" => BlockedAttention.Forward(q, k, v, queryBlock: block, keyBlock: block).Output,
        "fused" => ScaledDotProductAttention.BuiltIn(q, k, v),
        _ => throw new ArgumentException($"no attention for '{implementation}'.", nameof(implementation)),
    };

    /// <summary>The peak resident set size of this process so far, in KiB (VmHWM in /proc/self/status; Linux only).</summary>
    public static long PeakResidentKb()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
            throw new PlatformNotSupportedException("Peak resident memory is read from /proc/self/status, which exists on Linux only.");
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            ?? throw new InvalidDataException($"{status} has no VmHWM line.");
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
