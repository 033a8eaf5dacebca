using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Training;

/// <summary>
/// Cross-entropy against a smoothed target (Szegedy et al., 2016; ε_ls = 0.1 in Vaswani et al., 2017): the
/// target distribution is q = (1 − ε)·one-hot + ε/V, so the loss per token is
/// (1 − ε)·(−log p_y) + ε·mean_k(−log p_k). Tokens equal to the ignore index (padding) are left out and the
/// loss is averaged over the rest — the same definition as TorchSharp's cross_entropy(label_smoothing: ε).
/// </summary>
public static class LabelSmoothedCrossEntropy
{
    /// <param name="logits">(..., V) unnormalised scores.</param>
    /// <param name="targets">(...) int64 class ids, the same leading shape as <paramref name="logits"/>.</param>
    /// <param name="epsilon">ε in [0, 1); 0 is plain cross-entropy.</param>
    /// <param name="ignoreIndex">Target id whose positions do not count (e.g. the pad id).</param>
    /// <returns>A scalar: the mean over counted tokens (0 when none is counted).</returns>
    public static Tensor Compute(Tensor logits, Tensor targets, double epsilon = 0.1, long ignoreIndex = -100)
    {
        Guard.Rank(logits, 2, nameof(logits), "..., vocabulary");
        if (!logits.shape[..^1].SequenceEqual(targets.shape))
            throw new ArgumentException(
                $"targets has shape {Guard.Shape(targets)} but must match logits {Guard.Shape(logits)} without its last (vocabulary) dimension.", nameof(targets));
        if (epsilon is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be in [0, 1).");
        using var scope = NewDisposeScope();
        var logProbs = logits.reshape(-1, logits.shape[^1]).log_softmax(-1);
        var flat = targets.reshape(-1);
        var counted = flat.ne(ignoreIndex);
        var safe = flat.where(counted, 0L);
        var nll = -logProbs.gather(1, safe.unsqueeze(1)).squeeze(1);
        var uniform = -logProbs.mean([1]);
        var perToken = ((1 - epsilon) * nll + epsilon * uniform).where(counted, 0.0);
        var count = counted.sum().clamp_min(1).to(perToken.dtype);
        return (perToken.sum() / count).MoveToOuterDisposeScope();
    }
}
