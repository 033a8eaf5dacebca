using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.MoE;

/// <summary>Where a router sends each token: the softmax over experts, the k chosen experts (best first) and
/// the weight each chosen expert's output gets.</summary>
/// <param name="Probabilities">(tokens, experts): softmax of the router logits over the experts; each row sums to 1.</param>
/// <param name="Experts">(tokens, k) int64: the k most probable experts of each token, most probable first.</param>
/// <param name="Gates">(tokens, k): the weights of the chosen experts' outputs (see <see cref="MoeRouting.TopK"/>).</param>
public sealed record RoutingDecision(Tensor Probabilities, Tensor Experts, Tensor Gates);

/// <summary>
/// The routing arithmetic of a mixture-of-experts layer, one function per idea: top-k gating (Shazeer et al., 2017),
/// expert capacity with token dropping (Lepikhin et al., 2021, GShard; Fedus et al., 2022, Switch Transformer) and
/// the Switch load-balancing loss.
/// </summary>
public static class MoeRouting
{
    /// <summary>
    /// Top-k gating. Softmax over the experts (the last axis), keep the k most probable experts of each token.
    /// Convention for the gates: with k = 1 the gate is the chosen expert's probability itself (Switch: renormalising
    /// one value would always give 1 and the router would get no gradient from the task); with k ≥ 2 the k chosen
    /// probabilities are divided by their sum so they add up to 1 (GShard's top-2; the same as Shazeer et al.'s softmax
    /// over the k kept logits).
    /// </summary>
    public static RoutingDecision TopK(Tensor logits, int k)
    {
        RebuiltRoutines.Enter("MoeRouting.TopK");
        Guard.RankExactly(logits, 2, nameof(logits), "tokens, experts");
        long n = logits.shape[1];
        if (k < 1 || k > n) throw new ArgumentException($"k must be between 1 and the number of experts ({n}) but is {k}.", nameof(k));
        using var scope = NewDisposeScope();
        var probabilities = nn.functional.softmax(logits, dim: -1);
        var (values, experts) = probabilities.topk(k, dim: -1, largest: true, sorted: true);
        var gates = k == 1 ? values : values / values.sum(-1, keepdim: true);
        return new RoutingDecision(probabilities.MoveToOuterDisposeScope(), experts.MoveToOuterDisposeScope(), gates.MoveToOuterDisposeScope());
    }

    /// <summary>Tokens one expert may take in a batch: ⌈capacityFactor · tokens · k / experts⌉ (at least 1).</summary>
    public static int Capacity(int tokens, int experts, int k, double capacityFactor)
    {
        RebuiltRoutines.Enter("MoeRouting.Capacity");
        Guard.Positive(tokens, nameof(tokens));
        Guard.Positive(experts, nameof(experts));
        if (k < 1 || k > experts) throw new ArgumentException($"k must be between 1 and experts ({experts}) but is {k}.", nameof(k));
        if (!(capacityFactor > 0) || double.IsInfinity(capacityFactor))
            throw new ArgumentException($"capacityFactor must be a positive number but is {capacityFactor}.", nameof(capacityFactor));
        // The small slack keeps 1.25 · 64 · 1 / 4 = 20 from becoming 21 through rounding.
        return Math.Max(1, (int)Math.Ceiling(capacityFactor * tokens * k / experts - 1e-9));
    }

    /// <summary>
    /// Which (token, choice) assignments an expert keeps when each expert takes at most <paramref name="capacity"/>.
    /// Order of service: every token's first choice comes before any token's second choice (GShard), and within a
    /// choice rank tokens are served in their order in the batch (flattened batch × time): the first ones to arrive
    /// are kept, the rest are dropped and pass through the block on the residual connection only.
    /// Returns a (tokens, k) boolean mask.
    /// </summary>
    public static Tensor KeepMask(Tensor experts, int expertCount, int capacity)
    {
        RebuiltRoutines.Enter("MoeRouting.KeepMask");
        Guard.RankExactly(experts, 2, nameof(experts), "tokens, k");
        Guard.Positive(expertCount, nameof(expertCount));
        if (capacity < 0) throw new ArgumentException($"capacity must be 0 or more but is {capacity}.", nameof(capacity));
        using var scope = NewDisposeScope();
        long tokens = experts.shape[0], k = experts.shape[1];
        if (tokens == 0) return zeros([0, k], ScalarType.Bool, experts.device).MoveToOuterDisposeScope();
        long low = experts.min().item<long>(), high = experts.max().item<long>();
        if (low < 0 || high >= expertCount)
            throw new ArgumentException($"experts holds ids from {low} to {high}, outside 0 … {expertCount - 1}.", nameof(experts));
        var queue = experts.t().reshape(-1);                                     // choice-major: all first choices, then all second
        var oneHot = nn.functional.one_hot(queue, expertCount);                  // (k·tokens, experts)
        var position = ((oneHot.cumsum(0) - 1) * oneHot).sum(-1);               // place of each assignment in its expert's queue
        return position.lt(capacity).view(k, tokens).t().contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Share of the (token, choice) assignments that were dropped.</summary>
    public static double DroppedShare(Tensor keep) => keep.numel() == 0 ? 0 : 1 - keep.to_type(ScalarType.Float64).mean().item<double>();

    /// <summary>
    /// The Switch Transformer's auxiliary loss (Fedus et al., 2022, eq. 4): N · Σᵢ fᵢ · Pᵢ, where fᵢ is the share of
    /// tokens whose first choice is expert i (a count: no gradient) and Pᵢ is the router probability of expert i
    /// averaged over the tokens (differentiable). Uniform routing gives exactly 1; all tokens on one expert with all the
    /// probability on it gives N.
    /// </summary>
    public static Tensor LoadBalancingLoss(Tensor probabilities, Tensor firstChoice)
    {
        RebuiltRoutines.Enter("MoeRouting.LoadBalancingLoss");
        Guard.RankExactly(probabilities, 2, nameof(probabilities), "tokens, experts");
        Guard.RankExactly(firstChoice, 1, nameof(firstChoice), "tokens");
        if (firstChoice.shape[0] != probabilities.shape[0])
            throw new ArgumentException($"firstChoice has {firstChoice.shape[0]} tokens but probabilities has {probabilities.shape[0]}.", nameof(firstChoice));
        long n = probabilities.shape[1];
        using var scope = NewDisposeScope();
        var f = DispatchFraction(firstChoice, (int)n).to_type(probabilities.dtype);
        var p = probabilities.mean(new long[] { 0 });
        return ((f * p).sum() * n).MoveToOuterDisposeScope();
    }

    /// <summary>fᵢ: the share of tokens whose first choice is expert i, shape (experts).</summary>
    public static Tensor DispatchFraction(Tensor firstChoice, int experts)
    {
        using var scope = NewDisposeScope();
        var counts = firstChoice.reshape(-1).bincount(null, minlength: experts).to_type(ScalarType.Float32);
        return (counts / Math.Max(1, firstChoice.numel())).MoveToOuterDisposeScope();
    }
}
