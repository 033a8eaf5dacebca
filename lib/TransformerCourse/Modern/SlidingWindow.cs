using TorchSharp;
using TransformerCourse.Analysis;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Modern;

/// <summary>
/// Sliding-window attention (Longformer's causal band; Beltagy et al., 2020; used in every layer of Mistral 7B,
/// Jiang et al., 2023): query i may see key j when j ≤ i and i − j &lt; W, that is itself and the W − 1 keys before it.
/// One layer then reads at most W tokens, but L stacked layers reach back up to L·(W − 1) tokens, and the KV cache never
/// needs more than the last W positions per layer (a rolling buffer), however long the text.
/// </summary>
public static class SlidingWindow
{
    /// <summary>(T, T) boolean mask, true where query i may attend to key j: j ≤ i and i − j &lt; window. window 0 = plain causal.</summary>
    public static Tensor Mask(long length, int window, Device? device = null) => Mask(length, length, window, device);

    /// <summary>(queries, keys) boolean mask for queries that are the last <paramref name="queries"/> of <paramref name="keys"/> positions.</summary>
    public static Tensor Mask(long queries, long keys, int window, Device? device = null)
    {
        RebuiltRoutines.Enter("SlidingWindow.Mask");
        if (queries <= 0 || keys < queries)
            throw new ArgumentException($"need 0 < queries ≤ keys, but queries is {queries} and keys is {keys}.", nameof(queries));
        if (window < 0) throw new ArgumentException($"window must be 0 (no window) or positive but is {window}.", nameof(window));
        using var scope = NewDisposeScope();
        var distance = Alibi.Distances(queries, keys, device);
        var allowed = distance.ge(0);
        if (window > 0) allowed = allowed.logical_and(distance.lt(window));
        return allowed.MoveToOuterDisposeScope();
    }

    /// <summary>Positions one layer's cache must keep after <paramref name="tokens"/> tokens: min(tokens, window) (all of them without a window).</summary>
    public static long CachedPositions(long tokens, int window)
    {
        if (tokens < 0) throw new ArgumentException($"tokens must be 0 or more but is {tokens}.", nameof(tokens));
        if (window < 0) throw new ArgumentException($"window must be 0 (no window) or positive but is {window}.", nameof(window));
        return window == 0 ? tokens : Math.Min(tokens, window);
    }

    /// <summary>KV-cache bytes for a whole model with a window: 2 · layers · kvHeads · headWidth · min(tokens, W) · bytes · batch.</summary>
    public static long CacheBytes(int layers, int kvHeads, int headWidth, long tokens, int window, int bytesPerElement, int batch = 1)
        => KvCacheCost.Bytes(layers, kvHeads, headWidth, CachedPositions(tokens, window), bytesPerElement, batch);

    /// <summary>How far back the last layer of a stack of <paramref name="layers"/> windowed layers can see: layers · (window − 1).</summary>
    public static long Reach(int layers, int window)
    {
        Guard.Positive(layers, nameof(layers));
        Guard.Positive(window, nameof(window));
        return (long)layers * (window - 1);
    }
}
