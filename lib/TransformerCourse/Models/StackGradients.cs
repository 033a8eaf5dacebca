using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Models;

/// <summary>What one backward pass delivers to each layer of a deep stack (see <see cref="StackGradients"/>).</summary>
/// <param name="GradientNorms">‖∂loss/∂x_l‖ for l = 0..N−1: index 0 is the stack's input, index l the input of layer l.</param>
/// <param name="ActivationStd">Standard deviation of x_l, same indexing.</param>
/// <param name="OutputStd">Standard deviation of the stack's output x_N.</param>
public sealed record StackProbe(double[] GradientNorms, double[] ActivationStd, double OutputStd);

/// <summary>
/// Measures how the gradient travels down a stack x_{l+1} = f_l(x_l). The loss is ⟨x_N, u⟩ / √n for a fixed
/// direction u with n elements, so the gradient arriving at the top, u / √n, is the same whatever the activations
/// are; any growth or decay further down is the stack's doing.
/// </summary>
public static class StackGradients
{
    public static StackProbe Measure(IReadOnlyList<Func<Tensor, Tensor>> layers, Tensor input, Tensor direction)
    {
        if (layers.Count == 0) throw new ArgumentException("layers must contain at least one layer.", nameof(layers));
        using var scope = NewDisposeScope();
        var x = input.detach().clone().requires_grad_(true);
        var inputs = new List<Tensor>(layers.Count);
        var h = x;
        foreach (var layer in layers)
        {
            if (!ReferenceEquals(h, x)) h.retain_grad();
            inputs.Add(h);
            h = layer(h);
        }
        if (!h.shape.SequenceEqual(direction.shape))
            throw new ArgumentException($"direction has shape {Guard.Shape(direction)} but the stack's output is {Guard.Shape(h)}.", nameof(direction));
        var loss = (h * direction).sum() / Math.Sqrt(direction.numel());
        loss.backward();
        var norms = inputs.Select(t => t.grad is null ? 0.0 : t.grad.norm().to_type(ScalarType.Float64).item<double>()).ToArray();
        var stds = inputs.Select(t => t.detach().std().to_type(ScalarType.Float64).item<double>()).ToArray();
        return new StackProbe(norms, stds, h.detach().std().to_type(ScalarType.Float64).item<double>());
    }
}
