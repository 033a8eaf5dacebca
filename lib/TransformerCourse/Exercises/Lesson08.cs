using TorchSharp;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 8 (Residual Connections and Layer Normalization).</summary>
public static class Lesson08
{
    static readonly (int In, int Out)[] FoldCases = [(5, 5), (6, 4), (8, 3), (3, 7)];

    /// <summary>
    /// Exercise 1: fold a LayerNorm's gain γ and shift β (both (d_in)) into the linear layer that follows it
    /// (weight (d_out, d_in), bias (d_out), nn.Linear's layout): return the (weight, bias) that give the same output
    /// after a LayerNorm with γ = 1 and β = 0.
    /// </summary>
    public static Verdict FoldLayerNorm(Func<Tensor, Tensor, Tensor, Tensor, (Tensor Weight, Tensor Bias)> yours) => Check("your FoldLayerNorm",
        "go back to the LayerNorm formula in \"Layer normalization\": write what the linear layer computes from γ ⊙ x̂ + β, then sort the result into a part that multiplies x̂ and a part that does not depend on x̂ at all.",
        () =>
        {
            using var generator = new Generator(seed: 8);
            using var noGrad = no_grad();
            foreach (var (dIn, dOut) in FoldCases)
            {
                var gamma = randn([dIn], generator: generator) + 1;
                var beta = randn([dIn], generator: generator);
                var weight = randn([dOut, dIn], generator: generator) / Math.Sqrt(dIn);
                var bias = randn([dOut], generator: generator);
                var x = randn([4, 3, dIn], generator: generator) * 2 + 1;
                var sizes = $"d_in = {dIn}, d_out = {dOut}";
                var (w, b) = yours(gamma.clone(), beta.clone(), weight.clone(), bias.clone());
                ExpectShape(w, [dOut, dIn], $"the folded weight ({sizes})");
                Expect(b is not null, "the folded bias is still null.");
                Expect(!(b!.shape.SequenceEqual(new long[] { dIn }) && dIn != dOut),
                    $"with {sizes}, your folded bias has d_in = {dIn} entries: β lives on the LayerNorm's side, before the linear layer, and reaches the output only through it.");
                ExpectShape(b, [dOut], $"the folded bias ({sizes})");

                var normalised = nn.functional.layer_norm(x, [dIn], null, null, 1e-5);           // γ = 1, β = 0
                var want = nn.functional.linear(normalised * gamma + beta, weight, bias);
                var mine = nn.functional.linear(normalised, w.to_type(ScalarType.Float32), b.to_type(ScalarType.Float32));
                if (Same(mine, want, 1e-4)) continue;

                Expect(!(Same(w, weight, 1e-6) && Same(b, bias, 1e-6)), $"with {sizes}, you return the linear layer unchanged, so γ and β are simply dropped.");
                bool weightRight = Same(w, weight * gamma, 1e-5);
                Expect(weightRight || !Same(w, weight * gamma.unsqueeze(1), 1e-5),
                    $"with {sizes}, γ scales the rows of your weight, which are the layer's outputs; γ acts on the features coming in.");
                Expect(weightRight || !Same(w, weight, 1e-6), $"with {sizes}, your weight is unchanged: γ has to end up in it.");
                Expect(weightRight, $"with {sizes}, your folded weight is not right: apply the layer to γ ⊙ x̂ and see what multiplies x̂.");
                Expect(!Same(b, bias, 1e-5), $"with {sizes}, your bias is unchanged: the linear layer also sees β, and that part does not depend on x̂.");
                Expect(!Same(b, bias + beta, 1e-5), $"with {sizes}, you add β straight to the bias; β lives on the LayerNorm's side, before the linear layer, and reaches the output only through it.");
                Expect(!Same(b, bias + weight.matmul(gamma * beta), 1e-5), $"with {sizes}, your bias multiplies β by γ; in LayerNorm β is added after γ has scaled x̂.");
                Expect(false, $"with {sizes}, your folded bias is not right: what does the linear layer turn β into?");
            }
        });

    // (shape, scale of x, offset of x). The last case has a variance (about 1e-6) far below ε = 1e-5, so an ε that is
    // dropped or added outside the square root changes the gradient there; in the others ε hardly matters.
    static readonly (long[] Shape, double Scale, double Offset)[] GradientCases =
        [([4, 6, 10], 2, 1), ([5, 3], 2, 1), ([2, 1, 7], 2, 1), ([3, 2], 2, 1), ([4, 8], 1e-3, 0)];

    /// <summary>
    /// Exercise 2: ∂L/∂x of y = LayerNorm(x) with gain γ, given the upstream gradient ∂L/∂y, derived by hand. The
    /// library's LayerNorm and autograd are both refused. Autograd cannot be switched off around the learner's code
    /// (autograd.grad without a graph aborts the whole process in TorchSharp 0.107; backward only throws), so the check
    /// runs the function in a fresh dispose scope and looks at the tensors it created: a derived gradient creates none
    /// that require gradients, an autograd answer (on the input or on a copy of it) does. Asking autograd through
    /// TorchSharp's own layer_norm, while disposing every intermediate tensor at once, is not detected.
    /// </summary>
    public static Verdict LayerNormInputGradient(Func<Tensor, Tensor, Tensor, double, Tensor> yours) => Check("your LayerNormInputGradient",
        "follow the chain rule through every path from one x_j to the output: directly, through the mean μ, and through the standard deviation σ (both depend on all features). Two facts to test your result against: shifting all features of x by the same amount, or scaling them, leaves the normalised vector unchanged.",
        () =>
        {
            const double eps = 1e-5;
            using var generator = new Generator(seed: 88);
            foreach (var (shape, spread, offset) in GradientCases)
            {
                long d = shape[^1];
                var x = randn(shape, generator: generator) * spread + offset;
                var gamma = randn([d], generator: generator);
                var upstream = randn(shape, generator: generator);
                var sizes = spread < 0.01 ? $"input shape [{string.Join(", ", shape)}] and a tiny variance (x of size about {spread:0E0}, variance far below ε)" : $"input shape [{string.Join(", ", shape)}]";
                var (xGiven, gammaGiven, upstreamGiven) = (x.clone(), gamma.clone(), upstream.clone());
                Tensor mine;
                bool askedAutograd;
                using (var scope = NewDisposeScope())
                {
                    var answer = Forbidding(["LayerNormalization.forward"], () => yours(xGiven, gammaGiven, upstreamGiven, eps));
                    Expect(!xGiven.requires_grad && !gammaGiven.requires_grad && !upstreamGiven.requires_grad,
                        "your function switched on gradients for its input: that is autograd doing the work. Derive the gradient with the chain rule instead.");
                    // A derived gradient computes with tensors that do not require gradients; autograd needs at least one that does.
                    askedAutograd = scope.DisposablesView.OfType<Tensor>().Any(t => !t.IsInvalid && t.requires_grad);
                    ExpectShape(answer, shape, $"LayerNormInputGradient for {sizes}");
                    mine = answer.detach().to_type(ScalarType.Float64).MoveToOuterDisposeScope();
                }
                Expect(!askedAutograd,
                    "your function asked autograd for the gradient (it made a tensor that requires gradients, for example a copy of x, and ran a backward pass through it). Derive it by hand with the chain rule instead.");
                Expect(mine.isfinite().all().item<bool>(), $"with {sizes}, your gradient has NaN or infinite entries.");
                var want = Reference(x, gamma, upstream, eps);
                double scale = want.abs().max().item<double>();
                if (Same(mine, want, 1e-4 * Math.Max(1, scale))) continue;

                bool Matches(Tensor wrong) => Same(mine, wrong, 1e-4 * Math.Max(1, scale));
                Expect(!Matches(ByFormula(x, gamma, upstream, v => v.sqrt())),
                    $"with {sizes}, your gradient leaves out ε: when the variance is this small, ε decides the size of σ. It belongs inside the square root, σ = √(variance + ε).");
                Expect(!Matches(ByFormula(x, gamma, upstream, v => v.sqrt() + eps)),
                    $"with {sizes}, your gradient adds ε outside the square root; LayerNorm adds it to the variance, inside the root.");
                Expect(!Matches(ByFormula(x, gamma, upstream, v => (v * d / (d - 1.0) + eps).sqrt()))
                        && !Matches(ByFormula(x, gamma, upstream, v => (v * d / (d - 1.0) + eps).sqrt(), varianceDivisor: d - 1.0)),
                    $"with {sizes}, your gradient uses the unbiased variance (dividing by d − 1); LayerNorm's variance divides by d.");
                var xHat = Normalised(x, eps);
                Expect(mine.sum(-1).abs().max().item<double>() < 1e-3 * scale * d,
                    $"with {sizes}, your gradient does not sum to zero over the features. Adding the same number to every feature leaves LayerNorm's output unchanged, so it must: the path through the mean μ is missing.");
                Expect((mine * xHat).sum(-1).abs().max().item<double>() < 1e-3 * scale * d,
                    $"with {sizes}, your gradient is not orthogonal to x̂. Scaling the centred input leaves LayerNorm's output unchanged, so it must be: the path through σ is missing or has the wrong sign.");
                Expect(!Matches(Reference(x, ones_like(gamma), upstream, eps)), $"with {sizes}, γ is missing: the upstream gradient reaches x̂ multiplied by the gain.");
                Expect(false, $"with {sizes}, your gradient differs from the true one by up to {(mine - want).abs().max().item<double>():G3}.");
            }
        });

    /// <summary>The input gradient (float64) of x ↦ γ ⊙ (x − μ)/σ written out, with σ = <paramref name="sigma"/>(variance)
    /// and the variance term of the chain rule divided by <paramref name="varianceDivisor"/> (d when null): with the true
    /// σ it is the right answer, with another σ it is a learner's variant.</summary>
    static Tensor ByFormula(Tensor x, Tensor gamma, Tensor upstream, Func<Tensor, Tensor> sigma, double? varianceDivisor = null)
    {
        var x64 = x.to_type(ScalarType.Float64);
        long d = x.shape[^1];
        var centred = x64 - x64.mean([-1], keepdim: true);
        var s = sigma(centred.pow(2).mean([-1], keepdim: true));
        var xHat = centred / s;
        var gHat = upstream.to_type(ScalarType.Float64) * gamma.to_type(ScalarType.Float64);
        return (gHat - gHat.mean([-1], keepdim: true) - xHat * (gHat * xHat).sum([-1], keepdim: true) / (varianceDivisor ?? d)) / s;
    }

    static Tensor Normalised(Tensor x, double eps)
    {
        var x64 = x.to_type(ScalarType.Float64);
        var centred = x64 - x64.mean([-1], keepdim: true);
        return centred / (centred.pow(2).mean([-1], keepdim: true) + eps).sqrt();
    }

    /// <summary>The true input gradient (float64), from autograd through the functional LayerNorm.</summary>
    public static Tensor Reference(Tensor x, Tensor gamma, Tensor upstream, double eps)
    {
        using var enable = enable_grad();
        var input = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var y = nn.functional.layer_norm(input, [x.shape[^1]], gamma.to_type(ScalarType.Float64), null, eps);
        return autograd.grad([(y * upstream.to_type(ScalarType.Float64)).sum()], [input])[0].detach();
    }
}
