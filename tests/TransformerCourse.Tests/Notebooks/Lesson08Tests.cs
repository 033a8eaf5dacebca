using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 8 — Residual Connections and Layer Normalization.</summary>
public class Lesson08Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("02-transformer-architecture/08-residuals-and-layer-norm.ipynb");

    static double Parse(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    [Fact]
    public void Runs_cleanly_with_slide_types_and_hidden_solutions()
    {
        Lesson.AssertRanCleanly();
        Assert.All(Lesson.Cells, c => Assert.NotNull((string?)c["metadata"]?["slideshow"]?["slide_type"]));
        var solutions = Lesson.Cells.Where(c => c["metadata"]?["tags"]?.AsArray().Any(t => (string?)t == "solution") == true).ToList();
        Assert.Equal(2, solutions.Count);
        Assert.All(solutions, c => Assert.True((bool?)c["metadata"]?["jupyter"]?["source_hidden"] == true));
    }

    [Fact]
    public void Residual_connection_computes_the_post_and_pre_formulas()
    {
        foreach (var placement in new[] { "Post", "Pre ", "None" })
            Assert.True(Lesson.Number($@"{placement}: max \|ResidualConnection − formula\| = " + Num) < 1e-5, placement);
    }

    [Fact]
    public void Without_residuals_the_gradient_vanishes_with_depth()
    {
        double plainTop = Lesson.Number(@"plain stack: +gradient at layer 31 = " + Num);
        double plainInput = Lesson.Number(@"plain stack: +gradient at layer 31 = [\d.E+\-]+, at the input = " + Num);
        double residualInput = Lesson.Number(@"residual stack: gradient at layer 31 = [\d.E+\-]+, at the input = " + Num);
        double ratio = Lesson.Number(@"ratio residual / plain at the input = " + Num);
        Assert.True(plainInput < 1e-10 * plainTop, $"plain: top {plainTop}, input {plainInput}");
        Assert.True(residualInput > 0.5, $"residual input gradient {residualInput}");
        Assert.True(ratio > 1e10, $"ratio {ratio}");
        Assert.Equal(residualInput / plainInput, ratio, ratio * 0.02);
        // "shrinks by a similar factor at every layer" and "differ only by a small factor" (residual).
        double low = Lesson.Number(@"plain: the factor from one layer to the next lies between " + Num);
        double high = Lesson.Number(@"plain: the factor from one layer to the next lies between [\d.]+ and " + Num);
        Assert.True(high < 1 && high / low < 2, $"per-layer factors {low}..{high}");
        Assert.True(Lesson.Number(@"residual: largest / smallest gradient norm over all 32 layers = " + Num) < 5);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Gradient norm at the input of each layer"));
        // The forward pass: the first layer shrinks the std by ≈ 1/√18 (the closed form printed), then the biases hold
        // the activations at a floor; without biases they shrink like the gradient, which has no floor either way.
        double closedForm = Lesson.Number(@"closed form without biases 1/√18 = " + Num);
        Assert.Equal(1 / Math.Sqrt(18), closedForm, 3);
        double firstFactor = Lesson.Number(@"activation std factor of layers 0, 1, 2: " + Num);
        double gradientFactor = Lesson.Number(@"closed form without biases 1/√18 = [\d.]+; gradient ×" + Num);
        Assert.InRange(firstFactor / closedForm, 0.9, 1.1);
        Assert.InRange(gradientFactor / closedForm, 0.9, 1.1);
        double floorLow = Lesson.Number(@"from layer 3 to layer 31 the activation std stays between " + Num);
        double floorHigh = Lesson.Number(@"from layer 3 to layer 31 the activation std stays between [\d.]+ and " + Num);
        Assert.True(floorLow >= 0.02 && floorHigh <= 0.1, $"floor {floorLow}..{floorHigh}");          // "a few hundredths"
        double noBiasStd = Lesson.Number(@"biases zero: activation std entering layer 31 = " + Num);
        double noBiasActivationFactor = Lesson.Number(@"biases zero: activation std entering layer 31 = [\d.E+\-]+ \(×" + Num);
        double noBiasGradientFactor = Lesson.Number(@"biases zero: .*gradient at the input = [\d.E+\-]+ \(×" + Num);
        double withBiasStd = Lesson.Number(@"with biases: activation std entering layer 31 = " + Num);
        Assert.True(noBiasStd < 1e-15 && withBiasStd > 0.02, $"std at layer 31: no biases {noBiasStd}, with {withBiasStd}");
        Assert.InRange(noBiasActivationFactor / closedForm, 0.9, 1.1);
        Assert.InRange(noBiasGradientFactor / gradientFactor, 0.9, 1.1);                                // "about the same factor"
        Assert.True(Lesson.Number(@"residual stack: activation std " + Num) > 1);
    }

    [Fact]
    public void Only_normalised_stacks_are_robust_to_the_initialisation_scale()
    {
        double[] Row(string name) => Regex.Match(Lesson.Printed, Regex.Escape(name) + @" +gradient at the input for s = (.*)").Groups[1].Value
            .Split(", ").Select(part => Parse(part.Split(": ")[1])).ToArray();
        var plain = Row("plain");
        var residual = Row("residual, no norm");
        var post = Row("Post-LN");
        var pre = Row("Pre-LN");
        Assert.Equal(5, plain.Length);
        Assert.True(plain[0] < 1e-6 && plain[^1] > 1e6, string.Join(", ", plain));        // vanishes below s = 1, explodes above
        Assert.InRange(plain[2], 0.1, 10);                                                   // fine at s = 1
        Assert.True(residual[^1] > 1e6, string.Join(", ", residual));                       // residual alone explodes
        Assert.All(post, g => Assert.InRange(g, 0.1, 10));
        Assert.All(pre, g => Assert.InRange(g, 0.1, 100));
        Assert.True(plain[1] < 1e-4 && plain[3] > 1e4, "a quarter off s = 1, the plain stack vanishes or explodes");
        Assert.InRange(residual[0], 0.1, 10);                                                // residual alone fixes the vanishing side
        Assert.True(residual[2] > 100 && residual[3] > residual[2] && residual[4] > residual[3], string.Join(", ", residual));
        Assert.True(Lesson.Number(@"largest / smallest over the five scales: Post-LN " + Num) < 10);
        Assert.True(Lesson.Number(@"largest / smallest over the five scales: Post-LN [\d.]+, Pre-LN " + Num) < 10);
        Assert.True(post.Max() / post.Min() < 10 && pre.Max() / pre.Min() < 10);
        Assert.Equal(1.0, Lesson.Number(@"output std at s = 1.5: .*Post-LN " + Num + @", Pre-LN"), 2);
        Assert.True(Lesson.Number(@"output std at s = 1.5: .*Pre-LN " + Num) > 3, "the Pre-LN residual stream grows");
    }

    [Fact]
    public void LayerNorm_from_scratch_matches_TorchSharp_in_values_and_gradients()
    {
        foreach (var what in new[] { "values", "∂L/∂x", "∂L/∂γ", "∂L/∂β", "library values", "library ∂L/∂x" })
            Assert.True(Lesson.Number($@"LayerNorm {Regex.Escape(what)}: max \|ours − nn.LayerNorm\| = " + Num) < 1e-5, what);
        Assert.Contains("all within tolerance 1E-005: True", Lesson.Printed);
        Assert.True(Lesson.Number(@"max \|unbiased-variance version − nn.LayerNorm\| = " + Num) > 1e-2);
        Assert.Contains("std from 1.0000 to 1.0000", Lesson.Printed);
        Assert.Equal(0, Lesson.Number(@"one token normalised alone vs inside the batch: max difference = " + Num));
    }

    [Fact]
    public void Post_LN_without_warmup_collapses_where_Pre_LN_and_warmup_train()
    {
        double lnV = Lesson.Number(@"ln 16 = " + Num);
        double Loss(string run) => Lesson.Number(Regex.Escape(run) + @" *: mean loss over the last 20 steps = " + Num);
        double Exact(string run) => Lesson.Number(Regex.Escape(run) + @" *: mean loss over the last 20 steps = [\d.]+, held-out exact match = " + Num);
        double Cosine(string run) => Lesson.Number(Regex.Escape(run) + @" *: mean cosine similarity between the 12 output vectors of a sequence = " + Num);
        Assert.True(Math.Abs(Loss("Post-LN, no warm-up") - lnV) < 0.05, $"Post-LN loss {Loss("Post-LN, no warm-up")}");
        Assert.True(Exact("Post-LN, no warm-up") < 0.05);
        Assert.True(Cosine("Post-LN, no warm-up") > 0.99);
        Assert.True(Loss("Pre-LN, no warm-up") < 0.1 && Exact("Pre-LN, no warm-up") > 0.9);
        Assert.True(Math.Abs(Cosine("Pre-LN, no warm-up")) < 0.3);
        Assert.True(Math.Abs(Cosine("Post-LN, 50-step warm-up")) < 0.3);
        // The collapsed model predicts the uniform distribution for every position of every sequence (loss ln 16).
        double Top(string run) => Lesson.Number(Regex.Escape(run) + @" *: mean top probability = " + Num);
        double MinEntropy(string run) => Lesson.Number(Regex.Escape(run) + @" *: mean top probability = [\d.]+ \(uniform 1/16 = [\d.]+\), lowest entropy of all 768 predictions = " + Num);
        Assert.True(Math.Abs(Top("Post-LN, no warm-up") - 1.0 / 16) < 0.01, $"top {Top("Post-LN, no warm-up")}");
        Assert.True(lnV - MinEntropy("Post-LN, no warm-up") < 0.01, $"entropy {MinEntropy("Post-LN, no warm-up")}");
        Assert.Contains("every prediction of every sequence is within 0.01 nats of uniform: True", Lesson.Printed);
        Assert.True(Top("Pre-LN, no warm-up") > 0.9 && Top("Post-LN, 50-step warm-up") > 0.5, "the healthy models are confident");
        Assert.True(Loss("Post-LN, 50-step warm-up") < 1.0 && Exact("Post-LN, 50-step warm-up") > 0.3);
        // Warm-up rescues Post-LN, but at the same step it is less converged than Pre-LN.
        Assert.True(Loss("Post-LN, 50-step warm-up") > Loss("Pre-LN, no warm-up") && Exact("Post-LN, 50-step warm-up") < Exact("Pre-LN, no warm-up"));
        // The stuck run sits at ln 16 from an early step to the end.
        Assert.True(Lesson.Number(@"within 0.05 of ln 16 from step (\d+) to the end") <= 20);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Training loss, 8-layer encoder"));

        // The same split with two more seeds.
        var seeds = Regex.Matches(Lesson.Printed, @"seed (\d), (Post|Pre)-LN, no warm-up: mean loss over the last 20 steps = ([\d.]+), cosine between positions = ([-\d.]+)")
            .Select(m => (Norm: m.Groups[2].Value, Loss: Parse(m.Groups[3].Value), Cosine: Parse(m.Groups[4].Value))).ToList();
        Assert.Equal(4, seeds.Count);
        Assert.All(seeds.Where(s => s.Norm == "Post"), s => Assert.True(s.Loss > lnV - 0.05 && s.Cosine > 0.99, s.ToString()));
        Assert.All(seeds.Where(s => s.Norm == "Pre"), s => Assert.True(s.Loss < 1.0 && s.Cosine < 0.5, s.ToString()));
    }

    [Fact]
    public void Warm_up_claims_are_scoped()
    {
        var prose = string.Concat(Lesson.Cells.Where(c => (string?)c["cell_type"] == "markdown").Select(c => string.Concat(c["source"]!.AsArray().Select(l => (string?)l))));
        Assert.Contains("GPT-3", prose);
        Assert.Contains("LLaMA", prose);
        Assert.DoesNotContain("train well without any.", prose);
    }

    [Fact]
    public void The_backward_exercise_no_longer_admits_an_undetected_autograd_shortcut()
    {
        var prose = string.Concat(Lesson.Cells.Where(c => (string?)c["cell_type"] == "markdown").Select(c => string.Concat(c["source"]!.AsArray().Select(l => (string?)l))));
        Assert.DoesNotContain("cannot tell an answer computed by autograd", prose);
        Assert.Contains("notices the usual ways of asking autograd", prose);
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your FoldLayerNorm.*PASS: your FoldLayerNorm.*NOT YET: your LayerNormInputGradient.*PASS: your LayerNormInputGradient", Lesson.Printed);
    }
}
