using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Vision;

/// <summary>
/// CLIP's training objective (Radford et al., 2021, Figure 3): for a batch of B matching image–caption pairs, the
/// similarity logits (B, B) (image i against caption j, scaled by the temperature) should pick the diagonal both
/// ways. The loss is the mean of the cross-entropy over rows (each image picks its caption) and over columns (each
/// caption picks its image). It is ln B when every logit is equal.
/// </summary>
public static class ClipLoss
{
    /// <summary>The largest logit scale, 100, as in the paper (§2.5: "clipped to prevent scaling the logits by more than 100").</summary>
    public const double MaxLogitScale = 100;

    /// <summary>Symmetric cross-entropy of a (B, B) logit matrix whose diagonal holds the matching pairs.</summary>
    public static Tensor Symmetric(Tensor logits)
    {
        RebuiltRoutines.Enter("ClipLoss.Symmetric");
        Guard.RankExactly(logits, 2, nameof(logits), "images, captions");
        if (logits.shape[0] != logits.shape[1])
            throw new ArgumentException($"logits must be square (B images × B captions) but has shape {Guard.Shape(logits)}.", nameof(logits));
        using var scope = NewDisposeScope();
        var targets = arange(logits.shape[0], device: logits.device);
        var imageToText = nn.functional.cross_entropy(logits, targets);
        var textToImage = nn.functional.cross_entropy(logits.T, targets);
        return ((imageToText + textToImage) / 2).MoveToOuterDisposeScope();
    }

    /// <summary>Logits from unit-normalised embeddings: exp(logScale), clamped at <see cref="MaxLogitScale"/>, times the cosine similarities.</summary>
    public static Tensor Logits(Tensor imageEmbeddings, Tensor textEmbeddings, Tensor logScale)
    {
        Guard.RankExactly(imageEmbeddings, 2, nameof(imageEmbeddings), "images, width");
        Guard.RankExactly(textEmbeddings, 2, nameof(textEmbeddings), "captions, width");
        if (imageEmbeddings.shape[1] != textEmbeddings.shape[1])
            throw new ArgumentException($"imageEmbeddings {Guard.Shape(imageEmbeddings)} and textEmbeddings {Guard.Shape(textEmbeddings)} must have the same width.", nameof(textEmbeddings));
        using var scope = NewDisposeScope();
        var scale = logScale.exp().clamp_max(MaxLogitScale);
        var i = nn.functional.normalize(imageEmbeddings, dim: -1);
        var t = nn.functional.normalize(textEmbeddings, dim: -1);
        return (scale * i.matmul(t.T)).MoveToOuterDisposeScope();
    }
}
