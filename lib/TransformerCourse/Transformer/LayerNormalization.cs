using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>
/// Layer normalisation from scratch (Ba et al., 2016): each vector is shifted to mean 0 and scaled to variance 1
/// over its last dimension, then multiplied by <c>weight</c> (γ, starts at 1) and shifted by <c>bias</c>
/// (β, starts at 0): y = (x − mean) / √(var + eps) · γ + β, with the biased variance as TorchSharp's
/// <c>nn.LayerNorm</c> uses. Parameters: 2·d. Named LayerNormalization so it never clashes with TorchSharp's.
/// </summary>
public sealed class LayerNormalization : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight, bias;

    public LayerNormalization(int width, double eps = 1e-5) : base(nameof(LayerNormalization))
    {
        Guard.Positive(width, nameof(width));
        Guard.Positive(eps, nameof(eps));
        (Width, Eps) = (width, eps);
        weight = nn.Parameter(ones(width));
        bias = nn.Parameter(zeros(width));
        RegisterComponents();
    }

    public int Width { get; }
    public double Eps { get; }

    /// <summary>γ, the per-feature gain.</summary>
    public Parameter Weight => weight;

    /// <summary>β, the per-feature shift.</summary>
    public Parameter Bias => bias;

    public override Tensor forward(Tensor x)
    {
        RebuiltRoutines.Enter("LayerNormalization.forward");
        Guard.Rank(x, 1, nameof(x), "..., width");
        if (x.shape[^1] != Width)
            throw new ArgumentException($"x has shape {Guard.Shape(x)} but its last dimension must be the width {Width}.", nameof(x));
        using var scope = NewDisposeScope();
        var mean = x.mean([-1], keepdim: true);
        var centred = x - mean;
        var variance = centred.pow(2).mean([-1], keepdim: true);
        return (centred * (variance + Eps).rsqrt() * weight + bias).MoveToOuterDisposeScope();
    }
}
