using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Attention;

/// <summary>
/// The online softmax: the normaliser of a softmax computed one block of scores at a time, keeping only a
/// running maximum <c>m</c> and a running sum <c>ℓ = Σ exp(s − m)</c> per row (Milakov &amp; Gimelshein 2018;
/// the core of Flash Attention, Dao et al. 2022). When a new block raises the maximum from <c>m</c> to
/// <c>m'</c>, everything summed so far was measured against the old maximum and is rescaled by
/// <c>exp(m − m')</c>.
/// </summary>
/// <remarks>
/// Every routine here is safe on −∞: a block (or a whole row) whose scores are all −∞ contributes nothing
/// (sum 0, maximum −∞) instead of NaN. The −∞ − (−∞) = NaN trap is avoided by subtracting a finite stand-in
/// (0) wherever the running maximum is still −∞; nothing has been summed there, so the choice is harmless.
/// </remarks>
public static class OnlineSoftmax
{
    /// <summary>Row maximum and row sum of exp(s − max) over the last dimension of one block of scores.</summary>
    public static (Tensor Max, Tensor Sum) OfBlock(Tensor scores)
    {
        Guard.Rank(scores, 1, nameof(scores), "..., block");
        using var scope = NewDisposeScope();
        var max = scores.amax([-1L]);
        var sum = scores.sub(Finite(max).unsqueeze(-1)).exp().sum([-1L]);
        return (max.MoveToOuterDisposeScope(), sum.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Combines the states (max, sum) of two blocks of the same rows into the state of both together:
    /// m = max(m_a, m_b), ℓ = ℓ_a·exp(m_a − m) + ℓ_b·exp(m_b − m).
    /// </summary>
    public static (Tensor Max, Tensor Sum) Merge(Tensor maxA, Tensor sumA, Tensor maxB, Tensor sumB)
    {
        Exercises.RebuiltRoutines.Enter("OnlineSoftmax.Merge");
        SameShape(maxA, sumA, maxB, sumB);
        using var scope = NewDisposeScope();
        var max = maxA.maximum(maxB);
        var safe = Finite(max);
        var sum = sumA * (maxA - safe).exp() + sumB * (maxB - safe).exp();
        return (max.MoveToOuterDisposeScope(), sum.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// One step of blocked attention for a block of queries: takes the running (max, sum, unnormalised output)
    /// of the key blocks seen so far and the scores (..., rows, block) and values (..., block, d) of the next key
    /// block, and returns the state after it. The old sum and the old output are both rescaled by exp(m − m').
    /// </summary>
    public static (Tensor Max, Tensor Sum, Tensor Output) Update(Tensor max, Tensor sum, Tensor output, Tensor scores, Tensor values)
    {
        Exercises.RebuiltRoutines.Enter("OnlineSoftmax.Update");
        Guard.Rank(scores, 2, nameof(scores), "..., rows, block");
        Guard.Rank(values, 2, nameof(values), "..., block, d");
        if (scores.shape[^1] != values.shape[^2])
            throw new ArgumentException($"scores {Guard.Shape(scores)} has {scores.shape[^1]} keys but values {Guard.Shape(values)} has {values.shape[^2]}.", nameof(values));
        if (!max.shape.SequenceEqual(scores.shape[..^1]) || !sum.shape.SequenceEqual(max.shape))
            throw new ArgumentException($"max {Guard.Shape(max)} and sum {Guard.Shape(sum)} must have the shape of scores {Guard.Shape(scores)} without its last dimension.", nameof(max));
        if (!output.shape.SequenceEqual([.. scores.shape[..^1], values.shape[^1]]))
            throw new ArgumentException($"output {Guard.Shape(output)} must be [..., rows, d] for scores {Guard.Shape(scores)} and values {Guard.Shape(values)}.", nameof(output));
        using var scope = NewDisposeScope();
        var newMax = max.maximum(scores.amax([-1L]));
        var safe = Finite(newMax);
        var rescale = (max - safe).exp();                       // exp(m − m'): 0 where nothing was seen yet
        var p = (scores - safe.unsqueeze(-1)).exp();            // exp(s − m'): 0 for masked (−∞) scores
        var newSum = sum * rescale + p.sum([-1L]);
        var newOutput = output * rescale.unsqueeze(-1) + p.matmul(values);
        return (newMax.MoveToOuterDisposeScope(), newSum.MoveToOuterDisposeScope(), newOutput.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// log Σ exp(s) over the last dimension, streamed in blocks of <paramref name="blockSize"/> with
    /// <see cref="OfBlock"/> and <see cref="Merge"/>: only one block is ever exponentiated at a time.
    /// A row of all −∞ gives −∞.
    /// </summary>
    public static Tensor LogSumExp(Tensor scores, int blockSize)
    {
        Guard.Rank(scores, 1, nameof(scores), "..., n");
        Guard.Positive(blockSize, nameof(blockSize));
        using var scope = NewDisposeScope();
        long n = scores.shape[^1];
        Tensor max = full(scores.shape[..^1], double.NegativeInfinity, dtype: scores.dtype, device: scores.device);
        Tensor sum = zeros(scores.shape[..^1], dtype: scores.dtype, device: scores.device);
        for (long start = 0; start < n; start += blockSize)
        {
            var (bm, bs) = OfBlock(scores.narrow(-1, start, Math.Min(blockSize, n - start)));
            (max, sum) = Merge(max, sum, bm, bs);
        }
        return (Finite(max) + sum.log()).MoveToOuterDisposeScope();
    }

    /// <summary>The maximum with −∞ replaced by 0, for subtracting (−∞ − (−∞) would be NaN).</summary>
    public static Tensor Finite(Tensor max) => max.masked_fill(max.isneginf(), 0.0);

    static void SameShape(Tensor maxA, Tensor sumA, Tensor maxB, Tensor sumB)
    {
        if (!sumA.shape.SequenceEqual(maxA.shape) || !maxB.shape.SequenceEqual(maxA.shape) || !sumB.shape.SequenceEqual(maxA.shape))
            throw new ArgumentException(
                $"maxA {Guard.Shape(maxA)}, sumA {Guard.Shape(sumA)}, maxB {Guard.Shape(maxB)} and sumB {Guard.Shape(sumB)} must all have the same shape (one entry per row).", nameof(maxB));
    }
}
