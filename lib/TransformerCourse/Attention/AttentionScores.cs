using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.Attention;

/// <summary>
/// The scoring functions of attention's history. Each maps queries (B, L_q, d_q) and keys (B, L_k, d_k)
/// to scores (B, L_q, L_k); softmax over the last axis turns scores into weights.
/// </summary>
public abstract class AttentionScore : nn.Module<Tensor, Tensor, Tensor>
{
    protected AttentionScore(string name) : base(name) { }

    public override Tensor forward(Tensor query, Tensor key)
    {
        Guard.RankExactly(query, 3, nameof(query), "batch, L_q, d_q");
        Guard.RankExactly(key, 3, nameof(key), "batch, L_k, d_k");
        if (query.shape[0] != key.shape[0])
            throw new ArgumentException($"query {Guard.Shape(query)} and key {Guard.Shape(key)} must have the same batch size.", nameof(key));
        return Score(query, key);
    }

    protected abstract Tensor Score(Tensor query, Tensor key);

    protected static void SameWidth(Tensor query, Tensor key)
    {
        if (query.shape[^1] != key.shape[^1])
            throw new ArgumentException($"This score needs d_q == d_k, but query is {Guard.Shape(query)} and key is {Guard.Shape(key)}.", nameof(key));
    }

    /// <summary>
    /// Arithmetic operations per (query, key) pair once queries and keys are projected, for the cost table: an
    /// addition or a multiply-add counts as one; nonlinearities (the additive score's tanh) are not counted, nor is
    /// scaled dot's division by √d (it can be applied to each query once).
    /// </summary>
    public abstract long CostPerPair(long dq, long dk);
}

/// <summary>Dot product q·k (Luong et al., 2015, "dot").</summary>
public sealed class DotScore() : AttentionScore(nameof(DotScore))
{
    protected override Tensor Score(Tensor query, Tensor key)
    {
        SameWidth(query, key);
        return query.matmul(key.transpose(1, 2));
    }

    public override long CostPerPair(long dq, long dk) => dq;
}

/// <summary>q·k / √d_k (Vaswani et al., 2017).</summary>
public sealed class ScaledDotScore() : AttentionScore(nameof(ScaledDotScore))
{
    protected override Tensor Score(Tensor query, Tensor key)
    {
        SameWidth(query, key);
        return query.matmul(key.transpose(1, 2)) / Math.Sqrt(query.shape[^1]);
    }

    public override long CostPerPair(long dq, long dk) => dq;
}

/// <summary>qᵀ W k with a learned W (Luong et al., 2015, "general"); allows d_q ≠ d_k.</summary>
public sealed class GeneralScore : AttentionScore
{
    private readonly Linear w;

    public GeneralScore(long queryDim, long keyDim) : base(nameof(GeneralScore))
    {
        w = nn.Linear(keyDim, queryDim, hasBias: false);
        RegisterComponents();
    }

    protected override Tensor Score(Tensor query, Tensor key) => query.matmul(w.forward(key).transpose(1, 2));

    // W k is computed once per key, so per pair only the dot product remains.
    public override long CostPerPair(long dq, long dk) => dq;
}

/// <summary>vᵀ tanh(W_q q + W_k k) (Bahdanau et al., 2014, "additive").</summary>
public sealed class AdditiveScore : AttentionScore
{
    private readonly Linear wq, wk, v;
    private readonly long hidden;

    public AdditiveScore(long queryDim, long keyDim, long hiddenDim) : base(nameof(AdditiveScore))
    {
        hidden = hiddenDim;
        wq = nn.Linear(queryDim, hiddenDim, hasBias: false);
        wk = nn.Linear(keyDim, hiddenDim, hasBias: false);
        v = nn.Linear(hiddenDim, 1, hasBias: false);
        RegisterComponents();
    }

    protected override Tensor Score(Tensor query, Tensor key)
    {
        using var scope = NewDisposeScope();
        // (B, L_q, 1, h) + (B, 1, L_k, h): every pair gets its own hidden vector, hence the cost.
        var summed = wq.forward(query).unsqueeze(2) + wk.forward(key).unsqueeze(1);
        return v.forward(summed.tanh()).squeeze(-1).MoveToOuterDisposeScope();
    }

    public override long CostPerPair(long dq, long dk) => 2 * hidden;   // h additions (W_q q + W_k k) + h multiply-adds (the dot with v)
}
