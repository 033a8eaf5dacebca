using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>
/// The fixed positional encodings of Vaswani et al. (2017, §3.5): PE[pos, 2i] = sin(pos / 10000^(2i/d)) and
/// PE[pos, 2i+1] = cos(pos / 10000^(2i/d)). Sine and cosine of the same frequency sit side by side, so position 0
/// is [0, 1, 0, 1, …]. No parameters; any length; any even width.
/// </summary>
public static class SinusoidalPositionalEncoding
{
    /// <summary>The (length, width) table, float32. Computed in float64 so large positions stay accurate.</summary>
    /// <param name="length">Number of positions, 0..length−1.</param>
    /// <param name="width">d_model; must be even (each frequency needs a sine and a cosine).</param>
    /// <param name="baseWavelength">10000 in the paper: pair i has wavelength 2π·base^(2i/d), from 2π up to
    /// 2π·base^((d−2)/d), which stays below 2π·base (reached only as d grows without bound).</param>
    public static Tensor Table(long length, long width, Device? device = null, double baseWavelength = 10000.0)
    {
        RebuiltRoutines.Enter("SinusoidalPositionalEncoding.Table");
        Guard.Positive(length, nameof(length));
        if (width <= 0 || width % 2 != 0)
            throw new ArgumentException($"width must be a positive even number (a sine and a cosine per frequency) but is {width}.", nameof(width));
        Guard.Positive(baseWavelength, nameof(baseWavelength));
        using var scope = NewDisposeScope();
        var positions = arange(length, dtype: ScalarType.Float64).unsqueeze(1);                     // (L, 1)
        var exponents = arange(0, width, 2, dtype: ScalarType.Float64) / width;                      // 2i/d
        var angles = positions / pow(baseWavelength, exponents).unsqueeze(0);                      // (L, d/2)
        var table = stack([angles.sin(), angles.cos()], -1).reshape(length, width);                  // interleave
        return table.to(ScalarType.Float32, device ?? CPU).MoveToOuterDisposeScope();
    }
}
