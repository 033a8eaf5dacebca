using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Modern;

/// <summary>
/// Rotary position embedding, RoPE (Su et al., 2021, "RoFormer"). A query or key vector of even width d is read as
/// d/2 pairs (x₂ᵢ, x₂ᵢ₊₁), and the pair i of the vector at position m is rotated by the angle m·θᵢ with
/// θᵢ = base^(−2i/d) (base 10 000): the first pairs turn fast, the last ones slowly. Because a rotation by m·θ followed
/// by the dot product with a vector rotated by n·θ is the dot product after one rotation by (n − m)·θ, the score
/// q_m · k_n depends on the positions only through n − m. Rotations keep lengths, so no norm changes. The pairs are
/// adjacent, as in the paper (LLaMA's reference code pairs dimension i with i + d/2 instead; the two are the same up to a
/// fixed permutation of the dimensions).
/// </summary>
public static class RotaryEmbedding
{
    public const double DefaultBase = 10000;

    /// <summary>θᵢ = base^(−2i/d) for i = 0 … d/2 − 1, as float64 (d/2).</summary>
    public static Tensor Frequencies(int headWidth, double theBase = DefaultBase, Device? device = null)
    {
        if (headWidth <= 0 || headWidth % 2 != 0)
            throw new ArgumentException($"headWidth must be a positive even number (dimensions are rotated in pairs) but is {headWidth}.", nameof(headWidth));
        if (!(theBase > 1)) throw new ArgumentException($"theBase must be greater than 1 but is {theBase}.", nameof(theBase));
        var i = arange(0, headWidth / 2, dtype: ScalarType.Float64, device: device);
        return pow(theBase, -2.0 * i / headWidth);
    }

    /// <summary>Rotates x (…, T, d) as if its T rows sat at positions offset, offset + 1, … (offset = cached positions).</summary>
    public static Tensor Rotate(Tensor x, long offset = 0, double theBase = DefaultBase)
    {
        Guard.Rank(x, 2, nameof(x), "..., positions, head width");
        if (offset < 0) throw new ArgumentException($"offset must be 0 or more but is {offset}.", nameof(offset));
        using var positions = arange(offset, offset + x.shape[^2], dtype: ScalarType.Float32, device: x.device);
        return RotateAt(x, positions, theBase);
    }

    /// <summary>Rotates each row t of x (…, T, d) by the angles of <paramref name="positions"/>[t] (T values, any reals).</summary>
    public static Tensor RotateAt(Tensor x, Tensor positions, double theBase = DefaultBase)
    {
        RebuiltRoutines.Enter("RotaryEmbedding.RotateAt");
        Guard.Rank(x, 2, nameof(x), "..., positions, head width");
        long t = x.shape[^2], d = x.shape[^1];
        if (d % 2 != 0) throw new ArgumentException($"x has shape {Guard.Shape(x)}: its last dimension must be even, because RoPE rotates pairs of dimensions.", nameof(x));
        if (positions.dim() != 1 || positions.shape[0] != t)
            throw new ArgumentException($"positions has shape {Guard.Shape(positions)} but x {Guard.Shape(x)} has {t} positions; pass one position per row.", nameof(positions));
        using var scope = NewDisposeScope();
        // Angles in float64, so that cos and sin stay accurate at large positions even for a float32 x.
        var angles = positions.to_type(ScalarType.Float64).to(x.device).unsqueeze(1) * Frequencies((int)d, theBase, x.device).unsqueeze(0); // (T, d/2)
        var (cos, sin) = (angles.cos().to_type(x.dtype), angles.sin().to_type(x.dtype));
        var pairs = x.reshape([.. x.shape[..^1], d / 2, 2]);
        var (even, odd) = (pairs.select(-1, 0), pairs.select(-1, 1));
        var rotated = stack([even * cos - odd * sin, even * sin + odd * cos], -1);
        return rotated.reshape(x.shape).MoveToOuterDisposeScope();
    }
}
