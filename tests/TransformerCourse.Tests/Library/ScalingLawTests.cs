using TransformerCourse.Analysis;
using TransformerCourse.Exercises;
using TransformerCourse.Gpt;
using TransformerCourse.Scaling;

namespace TransformerCourse.Tests.Library;

/// <summary>The scaling-law fits (lesson 19) on synthetic data with known parameters, and compute-optimal allocation.</summary>
public class ScalingLawTests : TorchTest
{
    static readonly double[] Sizes = [5e3, 1.2e4, 2.5e4, 6e4, 1.3e5, 3e5, 7e5];

    [Fact]
    public void Saturating_fit_recovers_known_parameters_without_noise()
    {
        var law = new SaturatingPowerLaw(1.4, 25, 0.45);
        var fit = SaturatingPowerLawFit.Fit(Sizes, Sizes.Select(law.Predict).ToArray(), bootstrap: 50);
        Assert.Equal(1.4, fit.Law.Floor, 3);
        Assert.Equal(0.45, fit.Law.Exponent, 3);
        Assert.Equal(25.0, fit.Law.Coefficient, 0.5);
        Assert.True(fit.RmsLogResidual < 1e-6);
    }

    [Fact]
    public void Saturating_fit_with_noise_covers_the_truth_and_reports_its_uncertainty()
    {
        var law = new SaturatingPowerLaw(1.1, 12, 0.3);
        var random = new Random(3);
        var y = Sizes.Select(x => law.Predict(x) * Math.Exp(0.01 * (random.NextDouble() * 2 - 1))).ToArray();
        var fit = SaturatingPowerLawFit.Fit(Sizes, y, bootstrap: 300, seed: 1);
        var (lo, hi) = fit.ExponentInterval();
        Assert.InRange(0.3, lo, hi);
        Assert.True(fit.ExponentError > 0 && fit.ExponentError < 0.5, $"SE {fit.ExponentError}");
        Assert.True(Math.Abs(fit.Law.Exponent - 0.3) < 3 * fit.ExponentError + 0.02);
        var (bandLo, bandHi) = fit.Band(4e4);
        Assert.True(bandLo <= bandHi);
        Assert.InRange(law.Predict(4e4), bandLo - 0.02, bandHi + 0.02);
        // Deterministic: same seed, same result.
        Assert.Equal(fit.ExponentInterval(), SaturatingPowerLawFit.Fit(Sizes, y, bootstrap: 300, seed: 1).ExponentInterval());
    }

    [Fact]
    public void Saturating_fit_rejects_bad_input_with_clear_messages()
    {
        var e1 = Assert.Throws<ArgumentException>(() => SaturatingPowerLawFit.Fit([1, 2, 3], [3, 2, 1]));
        Assert.Contains("at least 4 points, got 3", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => SaturatingPowerLawFit.Fit([1, 2, 3, 4], [3, 2, 0, 1]));
        Assert.Contains("Point 2", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => SaturatingPowerLawFit.Fit([1, 2, 3, 4], [3, 2, 1]));
        Assert.Contains("x has 4 values but y has 3", e3.Message);
    }

    [Fact]
    public void Joint_fit_recovers_a_known_law_and_its_prediction()
    {
        var law = new JointScalingLaw(1.2, 30, 0.4, 200, 0.35);
        var points = (from n in Sizes.Take(5) from d in new[] { 3e4, 6e4, 1.2e5, 2.4e5, 4.8e5 } select (n, d, law.Predict(n, d))).ToList();
        var fit = JointScalingLawFit.Fit(points, bootstrap: 20);
        Assert.True(fit.RmsLogResidual < 1e-4, $"rms {fit.RmsLogResidual}");
        Assert.Equal(law.Predict(8e5, 1.5e6), fit.Law.Predict(8e5, 1.5e6), 2);
        Assert.Throws<ArgumentException>(() => JointScalingLawFit.Fit(points.Take(5).ToList()));
    }

    [Fact]
    public void Departures_flag_a_small_model_that_misses_the_law()
    {
        var law = new SaturatingPowerLaw(1.3, 20, 0.4);
        var y = Sizes.Select(law.Predict).ToArray();
        y[0] += 0.3;   // the smallest model does much worse than the law
        var random = new Random(5);
        for (int i = 1; i < y.Length; i++) y[i] *= Math.Exp(0.002 * (random.NextDouble() * 2 - 1));
        var se = Sizes.Select(_ => 0.005).ToArray();
        var departures = LawDepartures.SmallestModels(Sizes, y, se, minimumFitPoints: 4, bootstrap: 100);
        Assert.Equal(3, departures.Count);   // 7 models, the law needs 4 larger ones
        Assert.True(departures[0].OffTheLaw && departures[0].Gap > 0.2, $"{departures[0]}");
        Assert.False(departures[1].OffTheLaw, $"{departures[1]}");
        Assert.Throws<ArgumentException>(() => LawDepartures.SmallestModels([2, 1, 3, 4, 5], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]));
    }

    [Fact]
    public void Compute_optimal_allocation_matches_chinchilla()
    {
        var (n, d) = ComputeOptimal.Allocate(5.76e23);   // Chinchilla's budget: 70B parameters on 1.4T tokens
        Assert.InRange(n, 6.5e10, 7.2e10);
        Assert.Equal(20.0, d / n, 9);
        Assert.Equal(5.76e23, ComputeOptimal.TrainingFlops(n, d), 1e12);
        var capstone = TrainingRecipe.Cpu;
        Assert.Equal(1_536_000.0, ComputeOptimal.Tokens(capstone));
        Assert.Equal(793_344L, ComputeOptimal.NonEmbeddingParameters(capstone));
        // Our own law's optimum: with α = β and A = B, N* = D* = √(C/6).
        var (n2, d2) = ComputeOptimal.Allocate(new JointScalingLaw(1, 10, 0.3, 10, 0.3), 6e12);
        Assert.Equal(1e6, n2, 1e-3);
        Assert.Equal(1e6, d2, 1e-3);
        Assert.Throws<ArgumentOutOfRangeException>(() => ComputeOptimal.Allocate(-1));
    }

    [Fact]
    public void Sweep_trains_each_width_on_the_same_batches_and_evaluates_every_budget()
    {
        var random = new Random(0);
        var text = string.Concat(Enumerable.Range(0, 6000).Select(_ => "abcdefgh "[random.Next(9)]));
        var tokenizer = TransformerCourse.Data.CharTokenizer.FromText(text);
        using var corpus = new TransformerCourse.Data.TokenCorpus(tokenizer.Encode(text));
        var options = new ScalingSweepOptions([8, 16], [3, 6], Layers: 1, HeadWidth: 8, ContextLength: 16, BatchSize: 4, EvalBatches: 2, WarmupSteps: 2);
        var runs = ScalingSweep.Run(corpus, tokenizer.VocabSize, options);
        Assert.Equal(2, runs.Count);
        Assert.Equal(new[] { 3 * 64.0, 6 * 64.0 }, runs[0].Tokens);
        Assert.All(runs, r => Assert.Equal(2, r.ValidationLoss.Length));
        Assert.Equal(ModelSizes.NonEmbeddingParameters(1, 16), runs[1].NonEmbeddingParameters);
        Assert.All(runs, r => Assert.InRange(r.FinalLoss, 0.5 * Math.Log(tokenizer.VocabSize), Math.Log(tokenizer.VocabSize) + 0.5));   // uniform text: ln V is the best possible
        var bad = Assert.Throws<ArgumentException>(() => ScalingSweep.Run(corpus, tokenizer.VocabSize, options with { EvalSteps = [6, 3] }));
        Assert.Contains("strictly increasing", bad.Message);
    }
}
