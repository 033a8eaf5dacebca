using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Attention;

/// <summary>Boolean attention masks: true = this query may attend to this key.</summary>
public static class Masks
{
    /// <summary>(n, n): query i may see keys 0..i, never the future.</summary>
    public static Tensor Causal(long n, Device? device = null)
    {
        Guard.Positive(n, nameof(n));
        return ones(n, n, dtype: ScalarType.Bool, device: device).tril();
    }

    /// <summary>(batch, 1, maxLength): key j of sequence b is real when j &lt; lengths[b]; broadcasts over queries.</summary>
    public static Tensor Padding(long[] lengths, long maxLength, Device? device = null)
    {
        Guard.Positive(maxLength, nameof(maxLength));
        if (lengths.Length == 0) throw new ArgumentException("lengths must name at least one sequence.", nameof(lengths));
        var bad = Array.FindIndex(lengths, l => l < 0 || l > maxLength);
        if (bad >= 0)
            throw new ArgumentException($"lengths[{bad}] = {lengths[bad]} is outside 0..{maxLength} (maxLength).", nameof(lengths));
        using var positions = arange(maxLength, device: device).unsqueeze(0);
        using var lens = tensor(lengths, device: device).unsqueeze(1);
        return positions.lt(lens).unsqueeze(1);
    }

    /// <summary>Padding mask built from token ids: keys equal to <paramref name="padId"/> are hidden. (batch, 1, L).</summary>
    public static Tensor FromPadToken(Tensor tokens, long padId)
    {
        TransformerCourse.Exercises.RebuiltRoutines.Enter("Masks.FromPadToken");
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, length");
        return tokens.ne(padId).unsqueeze(1);
    }

    /// <summary>Both conditions must allow a position (logical and, with broadcasting).</summary>
    public static Tensor Combine(Tensor first, Tensor second)
    {
        if (first.dtype != ScalarType.Bool || second.dtype != ScalarType.Bool)
            throw new ArgumentException($"Combine expects boolean masks but got {first.dtype} and {second.dtype}.", nameof(first));
        try
        {
            return first.logical_and(second);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            throw new ArgumentException($"Masks of shapes {Guard.Shape(first)} and {Guard.Shape(second)} do not broadcast together.", nameof(second), e);
        }
    }

    /// <summary>The additive form: 0 where allowed, −∞ where hidden.</summary>
    public static Tensor ToAdditive(Tensor mask)
    {
        if (mask.dtype != ScalarType.Bool)
            throw new ArgumentException($"mask must be boolean but is {mask.dtype}.", nameof(mask));
        return zeros(mask.shape, device: mask.device).masked_fill(mask.logical_not(), double.NegativeInfinity);
    }
}
