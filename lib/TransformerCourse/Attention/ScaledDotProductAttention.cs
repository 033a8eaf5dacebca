using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Attention;

/// <summary>Output and weights of one attention call.</summary>
public sealed record AttentionResult(Tensor Output, Tensor Weights) : IDisposable
{
    public void Dispose()
    {
        Output.Dispose();
        Weights.Dispose();
    }
}

/// <summary>softmax(Q Kᵀ / √d_k) V written out step by step, so every intermediate can be inspected.</summary>
public static class ScaledDotProductAttention
{
    /// <param name="query">(..., L_q, d_k)</param>
    /// <param name="key">(..., L_k, d_k)</param>
    /// <param name="value">(..., L_k, d_v)</param>
    /// <param name="mask">Optional, broadcastable to (..., L_q, L_k). Boolean: true = may attend (as in
    /// TorchSharp's built-in). Floating point: added to the scores (0 or −∞).</param>
    /// <param name="scale">Defaults to 1/√d_k.</param>
    /// <remarks>A query whose every key is masked has nothing to attend to: its weights and output are
    /// defined as zero instead of the NaN that softmax over all −∞ would give.</remarks>
    public static AttentionResult Compute(Tensor query, Tensor key, Tensor value, Tensor? mask = null, double? scale = null)
    {
        Exercises.RebuiltRoutines.Enter("ScaledDotProductAttention.Compute");
        Validate(query, key, value, mask);
        using var scope = NewDisposeScope();
        var d = query.shape[^1];
        var scores = query.matmul(key.transpose(-2, -1)) * (scale ?? 1.0 / Math.Sqrt(d));
        Tensor? allowed = null;
        if (mask is not null)
        {
            if (mask.dtype == ScalarType.Bool)
            {
                scores = scores.masked_fill(mask.logical_not(), double.NegativeInfinity);
                allowed = mask;
            }
            else
            {
                scores = scores + mask;
                allowed = mask.isfinite();
            }
        }
        Tensor? rowHasKey = null;
        if (allowed is not null)
        {
            // A row with no allowed key is softmax over all −∞ = 0/0 = NaN, in the forward pass and in the
            // gradient. Give such rows finite scores before the softmax, then zero their weights after it.
            rowHasKey = allowed.expand(scores.shape).any(-1, keepdim: true);
            scores = scores.where(rowHasKey, 0.0);
        }
        var weights = scores.softmax(-1);
        if (rowHasKey is not null) weights = weights.where(rowHasKey, 0.0);
        var output = weights.matmul(value);
        return new AttentionResult(output.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }

    /// <summary>TorchSharp's fused kernel, for comparison and speed (no weights returned).</summary>
    public static Tensor BuiltIn(Tensor query, Tensor key, Tensor value, Tensor? mask = null, bool causal = false)
    {
        Validate(query, key, value, mask);
        return nn.functional.scaled_dot_product_attention(query, key, value, mask, 0.0, causal);
    }

    public static void Validate(Tensor query, Tensor key, Tensor value, Tensor? mask)
    {
        Guard.Rank(query, 2, nameof(query), "..., L_q, d_k");
        Guard.Rank(key, 2, nameof(key), "..., L_k, d_k");
        Guard.Rank(value, 2, nameof(value), "..., L_k, d_v");
        if (query.shape[^1] != key.shape[^1])
            throw new ArgumentException(
                $"query and key must share the last dimension d_k, but query is {Guard.Shape(query)} and key is {Guard.Shape(key)}.", nameof(key));
        if (key.shape[^2] != value.shape[^2])
            throw new ArgumentException(
                $"key and value must have the same number of positions L_k, but key is {Guard.Shape(key)} and value is {Guard.Shape(value)}.", nameof(value));
        if (!query.shape[..^2].SequenceEqual(key.shape[..^2]) || !key.shape[..^2].SequenceEqual(value.shape[..^2]))
            throw new ArgumentException(
                $"query, key and value must have the same batch dimensions, but they are {Guard.Shape(query)}, {Guard.Shape(key)} and {Guard.Shape(value)}.", nameof(query));
        if (mask is null) return;
        long[] target = [.. query.shape[..^1], key.shape[^2]];
        if (!Guard.BroadcastsTo(mask.shape, target))
            throw new ArgumentException(
                $"mask of shape {Guard.Shape(mask)} does not broadcast to the scores' shape [{string.Join(", ", target)}] (..., L_q, L_k).", nameof(mask));
    }
}
