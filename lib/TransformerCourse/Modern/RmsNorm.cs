using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Modern;

/// <summary>
/// Root-mean-square layer normalisation (Zhang and Sennrich, 2019), written from scratch because TorchSharp 0.107 has
/// no <c>nn.RMSNorm</c>: y = x / √(mean(x²) + eps) · g over the last dimension. Unlike LayerNorm it subtracts no mean
/// and adds no bias, so it has d parameters (the gain g, starting at 1) instead of 2·d. LLaMA uses eps = 1e-6 and
/// normalises 16-bit activations in float32; we do the same.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public RmsNorm(int width, double eps = 1e-6) : base(nameof(RmsNorm))
    {
        Guard.Positive(width, nameof(width));
        Guard.Positive(eps, nameof(eps));
        (Width, Eps) = (width, eps);
        weight = nn.Parameter(ones(width));
        RegisterComponents();
    }

    public int Width { get; }
    public double Eps { get; }

    /// <summary>g, the per-feature gain.</summary>
    public Parameter Weight => weight;

    public override Tensor forward(Tensor x)
    {
        if (x.shape.Length == 0 || x.shape[^1] != Width)
            throw new ArgumentException($"x has shape {Guard.Shape(x)} but its last dimension must be the width {Width}.", nameof(x));
        return Normalize(x, weight, Eps);
    }

    /// <summary>x / √(mean(x², last dim) + eps) · gain, returned in x's dtype (16-bit inputs are normalised in float32).</summary>
    public static Tensor Normalize(Tensor x, Tensor gain, double eps = 1e-6)
    {
        RebuiltRoutines.Enter("RmsNorm.Normalize");
        Guard.Rank(x, 1, nameof(x), "..., width");
        if (gain.dim() != 1 || gain.shape[0] != x.shape[^1])
            throw new ArgumentException($"gain has shape {Guard.Shape(gain)} but must be a vector as long as x's last dimension ({x.shape[^1]}; x is {Guard.Shape(x)}).", nameof(gain));
        if (!(eps > 0)) throw new ArgumentException($"eps must be positive but is {eps}.", nameof(eps));
        using var scope = NewDisposeScope();
        var work = x.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? x.to_type(ScalarType.Float32) : x;
        var normalized = work * (work.pow(2).mean([-1], keepdim: true) + eps).rsqrt();
        return (normalized.to_type(x.dtype) * gain).MoveToOuterDisposeScope();
    }
}
