using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>Per-token pieces of PPO's clipped objective, all (B, T), and the objective (a scalar to maximise).</summary>
/// <param name="Ratio">r_t = π_θ(a_t|s_t) / π_old(a_t|s_t).</param>
/// <param name="Unclipped">r_t · A_t.</param>
/// <param name="Clipped">clip(r_t, 1 − ε, 1 + ε) · A_t.</param>
/// <param name="Surrogate">min(Unclipped, Clipped), what PPO maximises per token.</param>
/// <param name="Objective">Mean of <see cref="Surrogate"/> over all tokens.</param>
/// <param name="ClippedShare">Share of tokens where the clipped term is the smaller one (their gradient is zero).</param>
public sealed record PpoTerms(Tensor Ratio, Tensor Unclipped, Tensor Clipped, Tensor Surrogate, Tensor Objective, double ClippedShare);

/// <summary>
/// The pieces of PPO as RLHF uses it (Schulman et al., 2017; Ziegler et al., 2019; Ouyang et al., 2022), without a
/// value network: per-token rewards with a KL penalty to the reference policy, advantages from the returns with a
/// batch-mean baseline, and the clipped surrogate objective.
/// </summary>
public static class Ppo
{
    /// <summary>
    /// r_t = −β (ln π_old(a_t) − ln π_ref(a_t)) at every token, plus the reward model's score on the last token.
    /// <paramref name="oldLogProbs"/> and <paramref name="referenceLogProbs"/> are (B, T) log-probs of the sampled
    /// tokens; <paramref name="scores"/> is (B).
    /// </summary>
    public static Tensor KlPenalisedRewards(Tensor oldLogProbs, Tensor referenceLogProbs, Tensor scores, double beta)
    {
        Guard.RankExactly(oldLogProbs, 2, nameof(oldLogProbs), "batch, completion token");
        SameShape(referenceLogProbs, oldLogProbs, nameof(referenceLogProbs));
        Guard.RankExactly(scores, 1, nameof(scores), "batch");
        if (scores.shape[0] != oldLogProbs.shape[0])
            throw new ArgumentException($"scores has {scores.shape[0]} entries for {oldLogProbs.shape[0]} rollouts.", nameof(scores));
        if (beta < 0 || !double.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be 0 or positive.");
        using var scope = NewDisposeScope();
        var rewards = -beta * (oldLogProbs - referenceLogProbs).detach();
        var last = zeros_like(rewards);
        last[.., -1] = scores.detach().to_type(rewards.dtype);
        return (rewards + last).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A_t = G_t − mean over the batch of G_t, with G_t = Σ_{t' ≥ t} r_t' the (undiscounted) return from token t on.
    /// A learned value function would replace the batch mean in full PPO.
    /// </summary>
    public static Tensor Advantages(Tensor rewards)
    {
        Guard.RankExactly(rewards, 2, nameof(rewards), "batch, completion token");
        if (rewards.shape[0] < 2) throw new ArgumentException($"rewards needs at least 2 rollouts for a batch baseline but has shape {Guard.Shape(rewards)}.", nameof(rewards));
        using var scope = NewDisposeScope();
        var returns = rewards.detach().flip(1).cumsum(1).flip(1);
        return (returns - returns.mean(new long[] { 0 }, keepdim: true)).MoveToOuterDisposeScope();
    }

    /// <summary>The clipped surrogate min(r·A, clip(r, 1 − ε, 1 + ε)·A) per token and its mean.</summary>
    public static PpoTerms Objective(Tensor logProbs, Tensor oldLogProbs, Tensor advantages, double epsilon = 0.2)
    {
        Guard.RankExactly(logProbs, 2, nameof(logProbs), "batch, completion token");
        SameShape(oldLogProbs, logProbs, nameof(oldLogProbs));
        SameShape(advantages, logProbs, nameof(advantages));
        if (!(epsilon > 0 && epsilon < 1)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be in (0, 1).");
        using var scope = NewDisposeScope();
        var ratio = (logProbs - oldLogProbs.detach()).exp();
        var a = advantages.detach();
        var unclipped = ratio * a;
        var clipped = ratio.clamp(1 - epsilon, 1 + epsilon) * a;
        var surrogate = minimum(unclipped, clipped);
        double share = (clipped < unclipped).to_type(ScalarType.Float64).mean().item<double>();
        return new PpoTerms(ratio.MoveToOuterDisposeScope(), unclipped.MoveToOuterDisposeScope(), clipped.MoveToOuterDisposeScope(),
            surrogate.MoveToOuterDisposeScope(), surrogate.mean().MoveToOuterDisposeScope(), share);
    }

    static void SameShape(Tensor t, Tensor like, string name)
    {
        if (!t.shape.SequenceEqual(like.shape))
            throw new ArgumentException($"{name} has shape {Guard.Shape(t)} but must match {Guard.Shape(like)}.", name);
    }
}
