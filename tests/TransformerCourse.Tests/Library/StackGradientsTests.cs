using TorchSharp;
using TransformerCourse.Models;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class StackGradientsTests : TorchTest
{
    [Fact]
    public void A_halving_stack_halves_the_gradient_per_layer_and_an_identity_path_keeps_it()
    {
        var x = randn(4, 5, 6);
        var u = randn(4, 5, 6);
        double top = u.norm().item<float>() / Math.Sqrt(u.numel());
        var halving = StackGradients.Measure([h => 0.5 * h, h => 0.5 * h, h => 0.5 * h], x, u);
        Assert.Equal(3, halving.GradientNorms.Length);
        Assert.Equal(top / 8, halving.GradientNorms[0], 5);
        Assert.Equal(top / 4, halving.GradientNorms[1], 5);
        Assert.Equal(top / 2, halving.GradientNorms[2], 5);
        Assert.Equal(x.std().item<float>() / 2, halving.ActivationStd[1], 4);
        Assert.Equal(x.std().item<float>() / 8, halving.OutputStd, 4);
        // x + 0.5x: the Jacobian is 1.5 I.
        var residual = StackGradients.Measure([h => h + 0.5 * h, h => h + 0.5 * h], x, u);
        Assert.Equal(top * 2.25, residual.GradientNorms[0], 4);
        Assert.False(x.requires_grad);
        var e = Assert.Throws<ArgumentException>(() => StackGradients.Measure([h => h.sum(-1)], x, u));
        Assert.Equal("direction", e.ParamName);
        Assert.Throws<ArgumentException>(() => StackGradients.Measure([], x, u));
    }
}
