namespace TransformerCourse.Analysis;

/// <summary>
/// Reads plus writes of GPU main memory (HBM), in elements, for one attention head of length n and width d,
/// counted the way Dao et al. (2022, "FlashAttention", Algorithm 0 and Theorem 2) count them.
/// </summary>
public static class HbmTraffic
{
    /// <summary>
    /// Standard attention: read Q, K and write S = QKᵀ; read S and write P = softmax(S); read P, V and write O
    /// = PV: 4n² + 4nd elements. The n² terms are the score and weight matrices making round trips.
    /// </summary>
    public static double Standard(long n, long d)
    {
        Guard.Positive(n, nameof(n)); Guard.Positive(d, nameof(d));
        return 4.0 * n * n + 4.0 * n * d;
    }

    /// <summary>Key/value block size of Flash Attention for an on-chip memory of <paramref name="sramElements"/>: ⌈M / 4d⌉.</summary>
    public static long KeyBlock(long d, long sramElements)
    {
        Guard.Positive(d, nameof(d)); Guard.Positive(sramElements, nameof(sramElements));
        return (sramElements + 4 * d - 1) / (4 * d);
    }

    /// <summary>
    /// Flash Attention (Algorithm 1): K and V are read once (2nd); for each of the T_c = ⌈n / B_c⌉ key blocks the
    /// whole of Q and O is read and O written back (3nd) with the row statistics ℓ and m read and written (4n):
    /// 2nd + T_c (3nd + 4n) elements. No n² term: the scores never leave SRAM.
    /// </summary>
    public static double Flash(long n, long d, long sramElements)
    {
        Guard.Positive(n, nameof(n));
        long blocks = (n + KeyBlock(d, sramElements) - 1) / KeyBlock(d, sramElements);
        return 2.0 * n * d + blocks * (3.0 * n * d + 4.0 * n);
    }
}
