using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.InContext;

/// <summary>
/// What the induction-head lesson measures on a <see cref="RepeatedSegmentBatch"/>: the next-token loss on each copy of
/// the segment, and how strongly each head attends like an induction head or like a previous-token head.
/// </summary>
public static class InductionScores
{
    /// <summary>
    /// Which predictions (batch, T − 1) fall on each copy. Prediction p scores token p + 1. The first token of a copy
    /// cannot be predicted from what precedes it, so a copy of L tokens holds L − 1 scored predictions: tokens
    /// start + 1 … start + L − 1 (first copy) and start + L + 1 … start + 2L − 1 (second copy).
    /// </summary>
    public static (Tensor FirstCopy, Tensor SecondCopy) CopyMasks(RepeatedSegmentBatch batch)
    {
        long t = batch.Tokens.shape[1];
        var first = new bool[batch.Count * (t - 1)];
        var second = new bool[batch.Count * (t - 1)];
        for (int b = 0; b < batch.Count; b++)
        {
            long s = batch.Starts[b], l = batch.Lengths[b];
            for (long p = s; p <= s + l - 2; p++) first[b * (t - 1) + p] = true;
            for (long p = s + l; p <= s + 2 * l - 2; p++) second[b * (t - 1) + p] = true;
        }
        return (tensor(first, new long[] { batch.Count, t - 1 }).to(batch.Tokens.device), tensor(second, new long[] { batch.Count, t - 1 }).to(batch.Tokens.device));
    }

    /// <summary>Mean loss (nats) over the scored predictions of the first and of the second copy, from per-position losses (batch, T − 1).</summary>
    public static (double FirstCopy, double SecondCopy) CopyLosses(Tensor perPosition, RepeatedSegmentBatch batch)
    {
        Guard.RankExactly(perPosition, 2, nameof(perPosition), "batch, predictions");
        if (perPosition.shape[0] != batch.Count || perPosition.shape[1] != batch.Tokens.shape[1] - 1)
            throw new ArgumentException(
                $"perPosition {Guard.Shape(perPosition)} must be (batch, T − 1) for tokens {Guard.Shape(batch.Tokens)}.", nameof(perPosition));
        using var scope = NewDisposeScope();
        var (first, second) = CopyMasks(batch);
        var losses = perPosition.detach().to_type(ScalarType.Float64);
        return (losses.masked_select(first).mean().item<double>(), losses.masked_select(second).mean().item<double>());
    }

    /// <summary>
    /// Induction score per (layer, head) from weights (layers, batch, heads, T, T): for every query i in the second copy,
    /// the weight on key i − L + 1, the position right after the previous occurrence of token i (that occurrence is at
    /// i − L), averaged over those queries and the batch. 1 means the head looks exactly there, always.
    /// </summary>
    public static Tensor Induction(Tensor weights, RepeatedSegmentBatch batch)
    {
        RebuiltRoutines.Enter("InductionScores.Induction");
        var selection = Selection(weights, batch, (b, add) =>
        {
            long s = batch.Starts[b], l = batch.Lengths[b];
            for (long i = s + l; i <= s + 2 * l - 1; i++) add(i, i - l + 1);
        });
        return selection;
    }

    /// <summary>Mean weight on the key just before the query (i − 1), over every query i ≥ 1: the previous-token score per (layer, head).</summary>
    public static Tensor PreviousToken(Tensor weights, RepeatedSegmentBatch batch) => Selection(weights, batch, (b, add) =>
    {
        for (long i = 1; i < batch.Tokens.shape[1]; i++) add(i, i - 1);
    });

    static Tensor Selection(Tensor weights, RepeatedSegmentBatch batch, Action<int, Action<long, long>> pairs)
    {
        Guard.RankExactly(weights, 5, nameof(weights), "layers, batch, heads, query, key");
        long t = batch.Tokens.shape[1];
        if (weights.shape[1] != batch.Count || weights.shape[3] != t || weights.shape[4] != t)
            throw new ArgumentException($"weights {Guard.Shape(weights)} must be (layers, {batch.Count}, heads, {t}, {t}) for tokens {Guard.Shape(batch.Tokens)}.", nameof(weights));
        var select = new float[batch.Count * t * t];
        int count = 0;
        for (int b = 0; b < batch.Count; b++)
            pairs(b, (query, key) => { select[(b * t + query) * t + key] = 1; count++; });
        using var scope = NewDisposeScope();
        var mask = tensor(select, new long[] { 1, batch.Count, 1, t, t }).to(weights.device);
        return ((weights.detach().to_type(ScalarType.Float32) * mask).sum(new long[] { 1, 3, 4 }) / count).MoveToOuterDisposeScope();
    }
}
