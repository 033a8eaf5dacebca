using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;
using TransformerCourse.Training;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 27 — Training on the GPU: on the CPU it trains the full `cpu` recipe (2000 steps) once; Lesson 28 reuses it.</summary>
public class Lesson27Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    internal static ExecutedNotebook Lesson => ExecutedNotebook.Run("06-capstone-mini-gpt/27-training-on-the-gpu.ipynb");

    /// <summary>Every "step N: train loss X, val loss Y" line, in order.</summary>
    static List<(int Step, double Train, double Validation)> Evaluations() =>
        Regex.Matches(Lesson.Printed, @"step +(\d+): train loss ([\d.]+), val loss ([\d.]+) \(checkpoint saved\)")
            .Select(m => (int.Parse(m.Groups[1].Value), Parse(m.Groups[2].Value), Parse(m.Groups[3].Value))).ToList();

    static double Parse(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    /// <summary>The text of displayed (not printed) outputs, such as the progress line.</summary>
    static IEnumerable<string> DisplayedText => Lesson.Cells.SelectMany(c => c["outputs"]?.AsArray() ?? [])
        .Select(o => (string?)o?["data"]?["text/plain"]).OfType<string>();

    [Fact]
    public void Runs_cleanly_top_to_bottom() => Lesson.AssertRanCleanly();

    [Fact]
    public void Trains_the_full_recipe_for_the_hardware()
    {
        Assert.Contains("this run: recipe 'cpu', 2000 steps on CPU", Lesson.Printed);
        var table = Assert.Single(Lesson.Html, h => h.Contains("<table") && h.Contains("eval batches"));
        Assert.Contains("<td>200</td>", table);   // the gpu recipe evaluates on 200 batches, as nanoGPT does
    }

    [Fact]
    public void AdamW_decays_matrices_only_and_decoupled_from_the_gradient()
    {
        Assert.Contains("AdamW group 1: 18 tensors,   802,944 parameters, weight decay 0.1, dims 2", Lesson.Printed);
        Assert.Contains("AdamW group 2: 34 tensors,     6,912 parameters, weight decay 0, dims 1", Lesson.Printed);
        Assert.Equal(0.99, Lesson.Number(@"λ = 0\.1 : AdamW θ = " + Num), 4);
        Assert.Equal(0.999, Lesson.Number(@"λ = 0\.01: AdamW θ = " + Num), 4);
        Assert.Equal(0.9, Lesson.Number(@"λ = 0\.1 : AdamW θ = [\d.]+ \(closed form 1 − ηλ = [\d.]+\);  Adam \+ L2 θ = " + Num), 4);
        Assert.Equal(0.9, Lesson.Number(@"λ = 0\.01: AdamW θ = [\d.]+ \(closed form 1 − ηλ = [\d.]+\);  Adam \+ L2 θ = " + Num), 4);
    }

    [Fact]
    public void The_schedule_warms_up_for_a_fixed_100_steps_and_decays_to_the_floor()
    {
        Assert.Contains("cpu: η(0) = 1.0e-5, η(99) = 1.0e-3 (peak)", Lesson.Printed);
        Assert.Contains("η(2000) = 1.0e-4 (floor); warm-up = 5 % of the run", Lesson.Printed);
        Assert.Contains("gpu: η(0) = 1.0e-5, η(99) = 1.0e-3 (peak)", Lesson.Printed);
        Assert.Contains("η(5000) = 1.0e-4 (floor); warm-up = 2 % of the run", Lesson.Printed);
        Assert.Single(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Learning-rate schedules"));
    }

    [Fact]
    public void One_step_by_hand_gives_the_same_weights_as_TrainStep()
    {
        Assert.Matches(@"step 1 by hand: η = 1\.0e-5, loss 4\.\d+, gradient norm [\d.]+ before clipping to 1", Lesson.Printed);
        Assert.InRange(Lesson.Number(@"step 1 by hand: η = [\d.e-]+, loss " + Num), 4.0, 4.4);   // ≈ ln 65 = 4.17 at the start
        Assert.Contains("by hand vs TrainStep(): max |weight difference| = 0.00E+000 over 809,856 weights → identical", Lesson.Printed);
    }

    [Fact]
    public void The_hand_written_Adam_matches_optim_Adam()
    {
        Assert.True(Lesson.Number(@"optim\.Adam, 400 steps: max \|update difference\| = " + Num) < 1e-6);
        Assert.Contains("→ the same recursion", Lesson.Printed);
    }

    [Fact]
    public void Clipping_under_Adam_protects_the_moments_not_the_step_size()
    {
        Assert.True(Lesson.Number(@"every gradient × 10: largest change of any update = " + Num) < 1e-6);
        var suppressed = Regex.Match(Lesson.Printed, @"below half the steady size: (\d+) of (\d+) without clipping, (\d+) with clipping");
        Assert.True(suppressed.Success);
        Assert.True(int.Parse(suppressed.Groups[1].Value) >= 100, suppressed.Value);   // "hundreds of steps"
        Assert.Equal("0", suppressed.Groups[3].Value);
        Assert.Single(Lesson.Html, h => h.Contains("Adam's update size after one outlier"));
    }

    [Fact]
    public void The_full_cpu_run_reaches_the_nanoGPT_reference_at_step_2000()
    {
        var evals = Evaluations();
        Assert.Equal(Enumerable.Range(1, 8).Select(i => 250 * i), evals.Select(e => e.Step));
        Assert.True(evals[0].Validation > evals[^1].Validation + 0.5, $"val loss {evals[0].Validation} → {evals[^1].Validation}");
        // nanoGPT's CPU command reports ≈ 1.88 after its 2000 iterations, split not named (Karpathy, nanoGPT README).
        Assert.True(evals[^1].Validation <= 1.90, $"final validation loss {evals[^1].Validation:0.0000} is above 1.90");
        Assert.Equal(evals[^1].Validation, Lesson.Number(@"validation loss: step 250 = [\d.]+, step 2000 = " + Num), 4);
        Assert.Contains("nanoGPT, cpu configuration, loss reported after 2000 steps: 1.88; this run, step 2000: ", Lesson.Printed);
        Assert.Equal(evals.Min(e => e.Validation), Lesson.Number(@"this run's validation loss: last [\d.]+ \(step 2000\), best " + Num), 4);
        Assert.Contains("→ within 0.02 of the reference or below it", Lesson.Printed);
        // The baselines on the same validation text, and the model below all of them.
        var bigram = Lesson.Number(@"bigram " + Num + "; the model is");
        Assert.InRange(Lesson.Number(@"unigram " + Num + ", bigram"), 3.0, 3.5);
        Assert.InRange(bigram, 2.3, 2.7);
        Assert.True(evals.All(e => e.Validation < bigram), "every evaluation should be below the bigram baseline");
        Assert.True(Lesson.Number(@"the model is " + Num + " nats below the bigram model") > 0.5);
        Assert.InRange(Lesson.Number(@"validation − training = " + Num), -0.05, 0.2);
        var chart = Assert.Single(Lesson.Html, h => h.Contains("Validation loss against the published results"));
        Assert.Contains("nanoGPT CPU command, after its 2000 steps", chart);
        Assert.Contains("nanoGPT GPU config, best of its 5000 steps (1.4697; step not published)", chart);
        Assert.Contains("\"markers\"", chart);
        Assert.Single(Lesson.Html, h => h.Contains("First half of the run (steps 1–1000)"));
        Assert.Single(Lesson.Html, h => h.Contains("The whole run, resumed at step 1000"));
        Assert.Contains(DisplayedText, t => t.StartsWith("step 1000/2000 · loss"));
        Assert.Contains(DisplayedText, t => t.StartsWith("step 2000/2000 · loss"));
        Assert.True(Lesson.FigureCount("line") >= 5);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("nanoGPT GPU config (best of 5000 steps)") && h.Contains("1.4697") && h.Contains("bigram counts"));
    }

    [Fact]
    public void Resuming_from_the_checkpoint_continues_identically()
    {
        Assert.Contains("stopped at step 1000", Lesson.Printed);
        Assert.Contains("the checkpoint on disk (section 6) holds step 1000", Lesson.Printed);
        Assert.Contains("resumed from the checkpoint at step 1000, with 1000 step records and 4 evaluations", Lesson.Printed);
        Assert.Contains("max |loss difference| = 0.00E+000 (identical)", Lesson.Printed);
        var checkpoint = Path.Combine(ExecutedNotebook.RepoRoot, "runs", "lesson27", GptTrainer.CheckpointFile);
        Assert.True(File.Exists(checkpoint), $"no checkpoint at {checkpoint}");
        Assert.Equal(2000, Checkpoint.ReadInfo(checkpoint).Step);
        Assert.True(File.Exists(Path.Combine(ExecutedNotebook.RepoRoot, "runs", "lesson27", GptTrainer.BestCheckpointFile)));
    }

    [Fact]
    public void Clipping_bf16_and_the_cost_of_the_full_recipes_are_measured()
    {
        Assert.Matches(@"norm before training: [\d., ]+; above c = 1: 5 of 5", Lesson.Printed);   // every gradient is clipped at the start
        Assert.Contains("0.1 + 10 × 1e-4: fp32 = 0.101000, bf16 = 0.100098", Lesson.Printed);
        Assert.True(Lesson.Number(@"bf16 copy [\d.]+ \(difference " + Num) < 0.02);
        Assert.Contains("start: fp32 0.100000, bf16 0.100098", Lesson.Printed);   // the bf16 weight never moved
        Assert.Matches(@"full gpu recipe: [\d.]+ PFLOP training \+ [\d.]+ evaluation \(\+\d+ %\) → ≈ [\d.]+ h here", Lesson.Printed);
        Assert.True(Lesson.Number(@"gpu / cpu recipe: \d+× the FLOPs per step, (\d+)× the FLOPs in all") > 100);
        // Evaluation is part of the cost: about +53 % for the gpu recipe (20 evaluations × 2 splits × 200 batches).
        Assert.InRange(Lesson.Number(@"full gpu recipe: [\d.]+ PFLOP training \+ [\d.]+ evaluation \(\+(\d+) %\)"), 50, 56);
        // The gap between the recipes is data as much as steps: 2.5× the steps but ~53× the tokens.
        Assert.Contains("gpu / cpu: 2.5× the steps, 53× the tokens", Lesson.Printed);
        Assert.InRange(Lesson.Number(@"checkpoint / weights = " + Num), 2.9, 3.2);
        Assert.Contains("nanoGPT does not have: 5,760 of 809,856", Lesson.Printed);   // 11d per block + d, d = 128
        // Clipping over the whole run: every step's norm is in the records, the after-training count is printed.
        Assert.Matches(@"over the run: \d+ of 2000 steps had a norm above c = 1", Lesson.Printed);
        Assert.Matches(@"verdict: (no outlier in this run; clipping rescaled \d+ of 2000 steps by a drifting factor|\d+ outlier step)", Lesson.Printed);
        // The clip factor's spread inside 100-step windows, and what Adam's recursion makes of the run's factors.
        var median = Lesson.Number(@"max/min inside a 100-step window: median " + Num);
        Assert.InRange(median, 1.0, Lesson.Number(@"100-step window: median [\d.]+, largest " + Num));
        var adamLow = Lesson.Number(@"constant: update " + Num + " to");
        var adamHigh = Lesson.Number(@"constant: update [\d.]+ to " + Num + @" \(1\.00 unclipped\)");
        Assert.True(adamLow <= 1.0 && 1.0 <= adamHigh, $"Adam's update {adamLow}–{adamHigh} should bracket 1 (step 1 gives exactly 1)");
        var change = Lesson.Number(@"changes Adam's update by up to (\d+) %");
        Assert.Equal(Math.Round(100 * Math.Max(1 - adamLow, adamHigh - 1)), change, 1.0);
        Assert.Contains($"by up to {change} %: " + (change <= 10 ? "a small effect" : change <= 30 ? "a moderate effect" : "a large effect"), Lesson.Printed);
        Assert.InRange(Lesson.Number(@"batches above c = 1: \d of 5 before, (\d) of 5 after"), 4, 5);
        Assert.Single(Lesson.Html, h => h.Contains("Global gradient norm at every step"));
    }

    [Fact]
    public void Exercises_fail_on_the_placeholders_and_pass_with_the_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Contains($"{Exercise.FailMark}: your schedule", Lesson.Printed);
        Assert.Contains($"{Exercise.PassMark}: your schedule", Lesson.Printed);
        Assert.Contains($"{Exercise.FailMark}: your clipping", Lesson.Printed);
        Assert.Contains($"{Exercise.PassMark}: your clipping", Lesson.Printed);
    }
}
