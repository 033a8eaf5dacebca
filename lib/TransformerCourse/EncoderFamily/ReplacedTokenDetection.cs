using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>A corrupted batch for ELECTRA's discriminator.</summary>
/// <param name="Corrupted">The input with a generator sample at every masked position (B, L).</param>
/// <param name="IsReplaced">True where the corrupted token differs from the original (B, L). A sample that happens to
/// equal the original token counts as original, as in the paper.</param>
public sealed record Corruption(Tensor Corrupted, Tensor IsReplaced);

/// <summary>
/// ELECTRA's replaced-token detection (Clark et al., 2020): a small generator (an MLM) fills the masked positions with
/// samples from its own predictions, and the discriminator labels every token of the result as original or replaced.
/// The discriminator learns from every position, not only the ~15 % that were masked.
/// </summary>
public static class ReplacedTokenDetection
{
    /// <summary>Samples a token from softmax(generatorLogits) at every position where <paramref name="masked"/> is true
    /// and writes it over the original; other positions keep their token. The sample is not differentiated through
    /// (ELECTRA does not backpropagate the discriminator's loss into the generator).</summary>
    public static Corruption Corrupt(Tensor ids, Tensor masked, Tensor generatorLogits, Generator? generator = null)
    {
        Guard.RankExactly(ids, 2, nameof(ids), "batch, length");
        if (!masked.shape.SequenceEqual(ids.shape) || masked.dtype != ScalarType.Bool)
            throw new ArgumentException($"masked must be a boolean tensor shaped like ids {Guard.Shape(ids)} but is {masked.dtype} {Guard.Shape(masked)}.", nameof(masked));
        if (generatorLogits.dim() != 3 || !generatorLogits.shape[..2].SequenceEqual(ids.shape))
            throw new ArgumentException($"generatorLogits has shape {Guard.Shape(generatorLogits)}; expected [{ids.shape[0]}, {ids.shape[1]}, vocabulary].", nameof(generatorLogits));
        using var noGrad = no_grad();
        var corrupted = ids.clone();
        if (masked.any().item<bool>())
        {
            var probabilities = nn.functional.softmax(generatorLogits[masked].to_type(ScalarType.Float32), -1);
            var sampled = multinomial(probabilities, 1, generator: generator).squeeze(-1);
            corrupted[masked] = sampled;
        }
        return new Corruption(corrupted, corrupted.ne(ids));
    }

    /// <summary>Binary cross-entropy of the discriminator's logits (B, L) against <paramref name="isReplaced"/>, averaged
    /// over the positions where <paramref name="scored"/> is true (e.g. not padding); all positions when null.</summary>
    public static Tensor Loss(Tensor discriminatorLogits, Tensor isReplaced, Tensor? scored = null)
    {
        if (!discriminatorLogits.shape.SequenceEqual(isReplaced.shape))
            throw new ArgumentException($"isReplaced has shape {Guard.Shape(isReplaced)} but discriminatorLogits has {Guard.Shape(discriminatorLogits)}.", nameof(isReplaced));
        if (scored is not null && !scored.shape.SequenceEqual(isReplaced.shape))
            throw new ArgumentException($"scored has shape {Guard.Shape(scored)} but isReplaced has {Guard.Shape(isReplaced)}.", nameof(scored));
        var target = isReplaced.to_type(discriminatorLogits.dtype);
        if (scored is null) return nn.functional.binary_cross_entropy_with_logits(discriminatorLogits, target);
        return nn.functional.binary_cross_entropy_with_logits(discriminatorLogits[scored], target[scored]);
    }
}
