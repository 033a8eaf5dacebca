using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Attention;

/// <summary>Output of <see cref="BlockedAttention.Forward"/>: the attention output and, per query, log Σ exp(score)
/// (what the backward pass needs to rebuild any block of weights without storing them), plus how many
/// query-block × key-block tiles the loop actually computed and how many it skipped (causal: wholly in the future).
/// Tiles are counted once per (query block, key block) pair; batch and heads are processed together.</summary>
public sealed record BlockedAttentionResult(Tensor Output, Tensor LogSumExp) : IDisposable
{
    /// <summary>Tiles whose scores were computed.</summary>
    public long TilesComputed { get; init; }

    /// <summary>Tiles never computed because every key in them is in the future of every query (causal only).</summary>
    public long TilesSkipped { get; init; }

    public void Dispose()
    {
        Output.Dispose();
        LogSumExp.Dispose();
    }
}

/// <summary>
/// Attention computed tile by tile, as Flash Attention does (Dao et al. 2022, "FlashAttention: Fast and
/// Memory-Efficient Exact Attention with IO-Awareness"): queries in blocks of <c>queryBlock</c> rows, keys and
/// values in blocks of <c>keyBlock</c>, the softmax normalised on the fly with <see cref="OnlineSoftmax.Update"/>.
/// The full n×n score matrix never exists; the largest temporary is one queryBlock×keyBlock tile per batch and head.
/// The backward pass recomputes each tile from q, k and the saved log-sum-exp instead of storing the weights.
/// </summary>
/// <remarks>
/// Exact, not approximate: the result equals softmax(QKᵀ/√d)V up to floating-point rounding. A query whose
/// keys are all masked has output zero (and zero gradients), log-sum-exp −∞ — never NaN. Written with ordinary
/// tensor ops, so it runs on any device; the speed of the real kernel comes from keeping a tile in on-chip SRAM,
/// which ops launched one by one cannot do.
/// </remarks>
public static class BlockedAttention
{
    /// <param name="query">(..., n_q, d)</param>
    /// <param name="key">(..., n_k, d)</param>
    /// <param name="value">(..., n_k, d_v)</param>
    /// <param name="causal">Query i may attend to keys 0..i (top-left aligned, like the built-in's causal flag).</param>
    /// <param name="mask">Optional boolean, broadcastable to (..., n_q, n_k); true = may attend.</param>
    public static BlockedAttentionResult Forward(Tensor query, Tensor key, Tensor value, bool causal = false, Tensor? mask = null,
        int queryBlock = 64, int keyBlock = 64)
    {
        Validate(query, key, value, mask, queryBlock, keyBlock);
        using var scope = NewDisposeScope();
        long nq = query.shape[^2], nk = key.shape[^2];
        double scale = 1.0 / Math.Sqrt(query.shape[^1]);
        var allowed = mask?.expand([.. query.shape[..^1], nk]);
        var outputs = new List<Tensor>();
        var lses = new List<Tensor>();
        long computed = 0, skipped = 0;
        for (long qs = 0; qs < nq; qs += queryBlock)
        {
            long br = Math.Min(queryBlock, nq - qs);
            using var rowBlock = NewDisposeScope();
            var qi = query.narrow(-2, qs, br) * scale;
            long[] rows = [.. query.shape[..^2], br];
            var m = full(rows, double.NegativeInfinity, dtype: query.dtype, device: query.device);
            var l = zeros(rows, dtype: query.dtype, device: query.device);
            var o = zeros([.. rows, value.shape[^1]], dtype: query.dtype, device: query.device);
            for (long ks = 0; ks < nk; ks += keyBlock)
            {
                if (causal && ks > qs + br - 1)                   // every key in this block and after is in the future
                {
                    skipped += (nk - ks + keyBlock - 1) / keyBlock;
                    break;
                }
                computed++;
                long bc = Math.Min(keyBlock, nk - ks);
                using var tile = NewDisposeScope();
                var s = qi.matmul(key.narrow(-2, ks, bc).transpose(-2, -1));
                if (TileMask(allowed, causal, qs, br, ks, bc, query.device) is { } keep)
                    s = s.masked_fill(keep.logical_not(), double.NegativeInfinity);
                var (m2, l2, o2) = OnlineSoftmax.Update(m, l, o, s, value.narrow(-2, ks, bc));
                m.Dispose(); l.Dispose(); o.Dispose();            // keep one running state, not one per tile
                m = m2.MoveToOuterDisposeScope();
                l = l2.MoveToOuterDisposeScope();
                o = o2.MoveToOuterDisposeScope();
            }
            var empty = l.eq(0);                                  // no key allowed: output 0, not 0/0
            outputs.Add((o / l.masked_fill(empty, 1.0).unsqueeze(-1)).MoveToOuterDisposeScope());
            lses.Add((OnlineSoftmax.Finite(m) + l.log()).MoveToOuterDisposeScope());
        }
        var output = cat(outputs, -2);
        var lse = cat(lses, -1);
        return new BlockedAttentionResult(output.MoveToOuterDisposeScope(), lse.MoveToOuterDisposeScope())
        {
            TilesComputed = computed,
            TilesSkipped = skipped,
        };
    }

    /// <summary>
    /// Gradients of the loss with respect to query, key and value, given ∂loss/∂output, by recomputation: each
    /// tile of weights is rebuilt as P = exp(S − logsumexp) and used at once (Dao et al. 2022, Algorithm 4;
    /// the row term D = rowsum(dO ∘ O) as in FlashAttention-2). Memory stays O(n·d) like the forward.
    /// </summary>
    public static (Tensor Query, Tensor Key, Tensor Value) Backward(Tensor query, Tensor key, Tensor value, BlockedAttentionResult forward,
        Tensor gradOutput, bool causal = false, Tensor? mask = null, int queryBlock = 64, int keyBlock = 64)
    {
        Validate(query, key, value, mask, queryBlock, keyBlock);
        if (!gradOutput.shape.SequenceEqual(forward.Output.shape))
            throw new ArgumentException($"gradOutput {Guard.Shape(gradOutput)} must have the output's shape {Guard.Shape(forward.Output)}.", nameof(gradOutput));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long nq = query.shape[^2], nk = key.shape[^2];
        double scale = 1.0 / Math.Sqrt(query.shape[^1]);
        var allowed = mask?.expand([.. query.shape[..^1], nk]);
        var lse = OnlineSoftmax.Finite(forward.LogSumExp);
        var rowTerm = (gradOutput * forward.Output).sum([-1L]);      // D_i = Σ_c dO_ic O_ic
        var dq = zeros_like(query);
        var dk = zeros_like(key);
        var dv = zeros_like(value);
        for (long ks = 0; ks < nk; ks += keyBlock)
        {
            long bc = Math.Min(keyBlock, nk - ks);
            using var column = NewDisposeScope();
            var kj = key.narrow(-2, ks, bc);
            var vj = value.narrow(-2, ks, bc);
            for (long qs = 0; qs < nq; qs += queryBlock)
            {
                long br = Math.Min(queryBlock, nq - qs);
                if (causal && ks > qs + br - 1) continue;
                using var tile = NewDisposeScope();
                var qi = query.narrow(-2, qs, br);
                var dOi = gradOutput.narrow(-2, qs, br);
                var s = (qi * scale).matmul(kj.transpose(-2, -1));
                if (TileMask(allowed, causal, qs, br, ks, bc, query.device) is { } keep)
                    s = s.masked_fill(keep.logical_not(), double.NegativeInfinity);
                var p = (s - lse.narrow(-1, qs, br).unsqueeze(-1)).exp();
                dv.narrow(-2, ks, bc).add_(p.transpose(-2, -1).matmul(dOi));
                var dp = dOi.matmul(vj.transpose(-2, -1));
                var ds = p * (dp - rowTerm.narrow(-1, qs, br).unsqueeze(-1));
                dq.narrow(-2, qs, br).add_(ds.matmul(kj) * scale);
                dk.narrow(-2, ks, bc).add_(ds.transpose(-2, -1).matmul(qi) * scale);
            }
        }
        return (dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope());
    }

    /// <summary>The boolean "may attend" mask for one tile, or null when every pair in it is allowed.</summary>
    static Tensor? TileMask(Tensor? allowed, bool causal, long qs, long br, long ks, long bc, Device device)
    {
        Tensor? keep = allowed?.narrow(-2, qs, br).narrow(-1, ks, bc);
        if (causal && ks + bc - 1 > qs)                           // the tile reaches past the diagonal
        {
            var future = arange(ks, ks + bc, device: device).unsqueeze(0).le(arange(qs, qs + br, device: device).unsqueeze(1));
            keep = keep is null ? future : keep.logical_and(future);
        }
        return keep;
    }

    static void Validate(Tensor query, Tensor key, Tensor value, Tensor? mask, int queryBlock, int keyBlock)
    {
        ScaledDotProductAttention.Validate(query, key, value, mask);
        Guard.Positive(queryBlock, nameof(queryBlock));
        Guard.Positive(keyBlock, nameof(keyBlock));
        if (mask is not null && mask.dtype != ScalarType.Bool)
            throw new ArgumentException($"mask must be boolean (true = may attend), not {mask.dtype}.", nameof(mask));
    }
}
