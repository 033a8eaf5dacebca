using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Attention;

/// <summary>
/// How "peaked" a softmax is, and how much gradient still flows through it. A saturated softmax puts almost
/// all its weight on one key: its entropy falls towards 0 and the gradient reaching the scores vanishes,
/// because the Jacobian diag(p) − p pᵀ of a one-hot p is zero.
/// </summary>
public static class SoftmaxSaturation
{
    /// <summary>Entropy in nats, −Σ p log p, of each row of <paramref name="weights"/> (..., L_k) → (...).
    /// Zero weights contribute zero. Uniform rows give ln L_k, one-hot rows give 0.</summary>
    public static Tensor Entropy(Tensor weights)
    {
        Guard.Rank(weights, 1, nameof(weights), "..., L_k");
        using var scope = NewDisposeScope();
        var p = weights.to_type(ScalarType.Float64);
        var plogp = p * p.clamp_min(1e-300).log();
        return (-plogp.sum(-1)).to_type(weights.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Mean row entropy (nats) of softmax(<paramref name="scores"/>) over the last axis.</summary>
    public static double MeanEntropy(Tensor scores)
    {
        using var scope = NewDisposeScope();
        return Entropy(scores.softmax(-1)).mean().item<float>();
    }

    /// <summary>
    /// Gradient that reaches the scores when a gradient <paramref name="upstream"/> arrives at the weights
    /// softmax(<paramref name="scores"/>): for each row, ∂L/∂s = (diag(p) − p pᵀ) g, computed with autograd.
    /// Returns the L2 norm of that gradient for each row, shape (...).
    /// </summary>
    public static Tensor ScoreGradientNorms(Tensor scores, Tensor upstream)
    {
        Guard.Rank(scores, 1, nameof(scores), "..., L_k");
        if (!scores.shape.SequenceEqual(upstream.shape))
            throw new ArgumentException(
                $"upstream {Guard.Shape(upstream)} must have the same shape as scores {Guard.Shape(scores)}.", nameof(upstream));
        using var scope = NewDisposeScope();
        using var enabled = enable_grad();
        var s = scores.detach().clone().requires_grad_(true);
        var loss = (s.softmax(-1) * upstream.detach()).sum();
        var grad = autograd.grad([loss], [s])[0];
        return grad.norm(-1).detach().MoveToOuterDisposeScope();
    }
}
