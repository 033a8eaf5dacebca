using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Modern;

/// <summary>
/// Attention with linear biases, ALiBi (Press et al., 2022, "Train short, test long"). No position vectors at all: each
/// head h adds −m_h · (i − j) to the score of query i for key j, a penalty that grows linearly with the distance. The
/// slopes form a geometric sequence; for H heads (a power of two) m_h = 2^(−8h/H), h = 1 … H, so 8 heads get
/// 1/2, 1/4, …, 1/256. For other H the paper takes the slopes of the nearest lower power of two and fills up with every
/// other slope of the next power of two.
/// </summary>
public static class Alibi
{
    /// <summary>The H slopes, steepest first.</summary>
    public static double[] Slopes(int heads)
    {
        RebuiltRoutines.Enter("Alibi.Slopes");
        Guard.Positive(heads, nameof(heads));
        if ((heads & (heads - 1)) == 0) return PowerOfTwo(heads);
        int closest = 1 << (int)Math.Floor(Math.Log2(heads));
        return [.. PowerOfTwo(closest), .. PowerOfTwo(2 * closest).Where((_, i) => i % 2 == 0).Take(heads - closest)];
    }

    static double[] PowerOfTwo(int heads) => Enumerable.Range(1, heads).Select(h => Math.Pow(2, -8.0 * h / heads)).ToArray();

    /// <summary>
    /// The additive mask (H, queries, keys) of causal ALiBi attention: −m_h · (i − j) where query i (at position
    /// keys − queries + i, so the queries are the last ones) may see key j, −∞ where it may not (a future key, or with
    /// <paramref name="window"/> &gt; 0 a key W or more positions back).
    /// </summary>
    public static Tensor CausalBias(int heads, long queries, long keys, int window = 0, Device? device = null)
    {
        if (queries <= 0 || keys < queries)
            throw new ArgumentException($"need 0 < queries ≤ keys, but queries is {queries} and keys is {keys}.", nameof(queries));
        using var scope = NewDisposeScope();
        var slopes = tensor(Slopes(heads), dtype: ScalarType.Float32, device: device).view(heads, 1, 1);
        var minusDistance = Distances(queries, keys, device).neg().to_type(ScalarType.Float32);   // (Tq, Tk): j − i (integer negation: no −0)
        var allowed = SlidingWindow.Mask(queries, keys, window, device);
        var bias = (slopes * minusDistance.unsqueeze(0)).masked_fill(allowed.logical_not().unsqueeze(0), double.NegativeInfinity);
        return bias.MoveToOuterDisposeScope();
    }

    /// <summary>(queries, keys) distances i − j, with query i at position keys − queries + i.</summary>
    public static Tensor Distances(long queries, long keys, Device? device = null)
    {
        var q = arange(keys - queries, keys, dtype: ScalarType.Int64, device: device).unsqueeze(1);
        var k = arange(0, keys, dtype: ScalarType.Int64, device: device).unsqueeze(0);
        return q - k;
    }
}
