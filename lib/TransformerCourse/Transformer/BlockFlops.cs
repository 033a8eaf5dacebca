using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>
/// Forward FLOPs of one <see cref="EncoderBlock"/> on one sequence of n tokens, counting matrix products only
/// (a product of (n × a) by (a × b) is n·a·b multiply-adds = 2·n·a·b FLOPs); softmax, norms, activations and
/// additions are left out.
/// </summary>
public static class BlockFlops
{
    /// <summary>
    /// Counted from the module: runs one real sequence of <paramref name="n"/> tokens through <paramref name="block"/>
    /// and adds 2·tokens·in·out for every <c>Linear</c> the block contains (whatever its feed-forward kind) and
    /// 2·(2·B·H·L_q·L_k·d_k) for Q·Kᵀ and A·V, read off the shape of the attention weights the block returns.
    /// </summary>
    public static double FromModule(EncoderBlock block, int n)
    {
        RebuiltRoutines.Enter("BlockFlops.FromModule");
        ArgumentNullException.ThrowIfNull(block);
        Guard.Positive(n, nameof(n));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var width = block.SelfAttention.Width;
        var (output, weights) = block.ForwardWithAttention(randn(1, n, width, device: block.parameters().First().device));
        long tokens = output.shape[0] * output.shape[1];
        double linear = block.named_modules().Select(m => m.module).OfType<TorchSharp.Modules.Linear>()
            .Sum(l => 2.0 * tokens * l.weight!.shape[0] * l.weight!.shape[1]);
        long b = weights.shape[0], h = weights.shape[1], lq = weights.shape[2], lk = weights.shape[3];
        double attention = 2 * (2.0 * b * h * lq * lk * block.SelfAttention.HeadWidth);
        return linear + attention;
    }

    /// <summary>The closed form for a block with a ReLU/GELU feed-forward network: 8nd² (Q, K, V, O) + 4n²d (Q·Kᵀ, A·V) + 4nd·d_ff.</summary>
    public static double ByFormula(long width, long feedForwardWidth, long n)
    {
        RebuiltRoutines.Enter("BlockFlops.ByFormula");
        Guard.Positive(width, nameof(width));
        Guard.Positive(feedForwardWidth, nameof(feedForwardWidth));
        Guard.Positive(n, nameof(n));
        return 8.0 * n * width * width + 4.0 * n * n * width + 4.0 * n * width * feedForwardWidth;
    }
}
