using TorchSharp;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Models;

/// <summary>
/// How strongly the last output of a sequence model depends on the first input: the norm of
/// ∂ output_n / ∂ input_1. In an RNN the signal crosses n−1 steps; in attention, one.
/// </summary>
public static class GradientReach
{
    /// <summary>Elman RNN with random weights scaled to spectral gain <paramref name="gain"/> (below 1 keeps it stable).</summary>
    public static double ThroughRnn(int length, int width, int seed, double gain = 0.9)
    {
        Guard.Positive(length, nameof(length));
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var inputs = randn(1, length, width, generator: generator).requires_grad_();
        var wx = randn(width, width, generator: generator) / Math.Sqrt(width);
        var wh = randn(width, width, generator: generator) * (gain / Math.Sqrt(width));
        var states = RecurrentLoop.Run(inputs, wx, wh);
        states[0, length - 1].sum().backward();
        return inputs.grad![0, 0].norm().item<float>();
    }

    /// <summary>One self-attention layer over the same kind of input (queries, keys, values = the inputs).</summary>
    public static double ThroughAttention(int length, int width, int seed)
    {
        Guard.Positive(length, nameof(length));
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var inputs = randn(1, length, width, generator: generator).requires_grad_();
        using var result = ScaledDotProductAttention.Compute(inputs, inputs, inputs);
        result.Output[0, length - 1].sum().backward();
        return inputs.grad![0, 0].norm().item<float>();
    }
}
