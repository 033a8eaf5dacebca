using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 8's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson08ExerciseTests : TorchTest
{
    static void AssertPass(Verdict verdict) => Assert.True(verdict.Passed, verdict.Feedback);

    static void AssertNotYet(Verdict verdict, string diagnosis)
    {
        Assert.False(verdict.Passed);
        Assert.True(verdict.Feedback.Contains(diagnosis), $"expected '{diagnosis}' in: {verdict.Feedback}");
    }

    [Fact]
    public void Fold_reference_passes() =>
        AssertPass(Lesson08.FoldLayerNorm((gamma, beta, w, b) => (w * gamma, b + w.matmul(beta))));

    [Fact]
    public void Fold_placeholder_fails_naming_the_dropped_parameters()
    {
        var verdict = Lesson08.FoldLayerNorm((gamma, beta, w, b) => (w, b));
        AssertNotYet(verdict, "unchanged, so γ and β are simply dropped");
    }

    [Fact]
    public void Gamma_on_the_wrong_axis_is_named()
    {
        // Broadcasting γ over the rows only runs when the layer is square (the second case).
        var verdict = Lesson08.FoldLayerNorm((gamma, beta, w, b) => (w.shape[0] == w.shape[1] ? w * gamma.unsqueeze(1) : w * gamma, b + w.matmul(beta)));
        AssertNotYet(verdict, "γ scales the rows");
    }

    [Fact]
    public void Adding_beta_straight_to_the_bias_is_named()
    {
        var verdict = Lesson08.FoldLayerNorm((gamma, beta, w, b) => (w * gamma, b + beta));
        AssertNotYet(verdict, "reaches the output only through it");
    }

    [Fact]
    public void Scaling_beta_by_gamma_is_named()
    {
        var verdict = Lesson08.FoldLayerNorm((gamma, beta, w, b) => (w * gamma, b + w.matmul(gamma * beta)));
        AssertNotYet(verdict, "multiplies β by γ");
    }

    static Tensor Gradient(Tensor x, Tensor gamma, Tensor upstream, double eps, bool withMean = true, bool withSigma = true, bool withGamma = true)
    {
        var centred = x - x.mean([-1], keepdim: true);
        var sigma = (centred.pow(2).mean([-1], keepdim: true) + eps).sqrt();
        var xHat = centred / sigma;
        var gHat = withGamma ? upstream * gamma : upstream;
        var result = gHat.clone();
        if (withMean) result = result - gHat.mean([-1], keepdim: true);
        if (withSigma) result = result - xHat * (gHat * xHat).mean([-1], keepdim: true);
        return result / sigma;
    }

    [Fact]
    public void Gradient_reference_passes() => AssertPass(Lesson08.LayerNormInputGradient((x, g, u, e) => Gradient(x, g, u, e)));

    [Fact]
    public void Gradient_placeholder_fails_naming_the_mean_path()
    {
        var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) => Gradient(x, g, u, e, withMean: false, withSigma: false));
        AssertNotYet(verdict, "path through the mean μ is missing");
    }

    [Fact]
    public void Missing_sigma_path_is_named()
    {
        var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) => Gradient(x, g, u, e, withSigma: false));
        AssertNotYet(verdict, "path through σ");
    }

    [Fact]
    public void Missing_gamma_is_named()
    {
        var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) => Gradient(x, g, u, e, withGamma: false));
        AssertNotYet(verdict, "γ is missing");
    }

    [Fact]
    public void The_library_LayerNorm_is_refused()
    {
        var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) => new LayerNormalization((int)x.shape[^1]).forward(x));
        AssertNotYet(verdict, "LayerNormalization.forward");
    }
    static Tensor HandWrittenLayerNorm(Tensor x, Tensor gamma)
    {
        var centred = x - x.mean([-1], keepdim: true);
        return centred / (centred.pow(2).mean([-1], keepdim: true) + 1e-5).sqrt() * gamma;
    }

    [Fact]
    public void Autograd_on_the_given_input_is_detected()
    {
        var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) =>
        {
            var input = x.requires_grad_(true);
            (HandWrittenLayerNorm(input, g) * u).sum().backward();
            return input.grad!.clone();
        });
        AssertNotYet(verdict, "switched on gradients for its input");
    }

    [Fact]
    public void Autograd_on_a_copy_of_the_input_is_detected()
    {
        var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) =>
        {
            var copy = x.detach().clone().requires_grad_(true);
            (HandWrittenLayerNorm(copy, g) * u).sum().backward();
            return copy.grad!.clone();
        });
        AssertNotYet(verdict, "your function asked autograd for the gradient");
    }

    [Fact]
    public void Autograd_grad_on_a_copy_is_detected_even_when_the_copy_is_disposed()
    {
        var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) =>
        {
            using var copy = x.detach().clone().requires_grad_(true);
            using var loss = (HandWrittenLayerNorm(copy, g) * u).sum();
            return autograd.grad([loss], [copy])[0].detach().clone();
        });
        AssertNotYet(verdict, "your function asked autograd for the gradient");
    }

    [Fact]
    public void The_reference_creates_no_tensor_that_requires_gradients()
    {
        // The detection must not fire on a derived answer, also when the caller has autograd switched on.
        using var enable = enable_grad();
        AssertPass(Lesson08.LayerNormInputGradient((x, g, u, e) => Gradient(x, g, u, e)));
    }

    [Fact]
    public void Dropping_epsilon_is_named()
    {
        var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) => Gradient(x, g, u, 0.0));
        AssertNotYet(verdict, "leaves out ε");
    }

    [Fact]
    public void Epsilon_outside_the_root_is_named()
    {
        var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) =>
        {
            var centred = x - x.mean([-1], keepdim: true);
            var sigma = centred.pow(2).mean([-1], keepdim: true).sqrt() + e;
            var xHat = centred / sigma;
            var gHat = u * g;
            return (gHat - gHat.mean([-1], keepdim: true) - xHat * (gHat * xHat).mean([-1], keepdim: true)) / sigma;
        });
        AssertNotYet(verdict, "adds ε outside the square root");
    }

    [Fact]
    public void The_unbiased_variance_is_named_in_both_forms()
    {
        // The exact gradient of a LayerNorm with the unbiased variance, and the right formula with σ from it.
        foreach (bool exact in new[] { true, false })
        {
            var verdict = Lesson08.LayerNormInputGradient((x, g, u, e) =>
            {
                long d = x.shape[^1];
                var centred = x - x.mean([-1], keepdim: true);
                var sigma = (centred.pow(2).sum([-1], keepdim: true) / (d - 1) + e).sqrt();
                var xHat = centred / sigma;
                var gHat = u * g;
                var projection = exact ? (gHat * xHat).sum([-1], keepdim: true) / (d - 1) : (gHat * xHat).mean([-1], keepdim: true);
                return (gHat - gHat.mean([-1], keepdim: true) - xHat * projection) / sigma;
            });
            AssertNotYet(verdict, "unbiased variance");
        }
    }
}
