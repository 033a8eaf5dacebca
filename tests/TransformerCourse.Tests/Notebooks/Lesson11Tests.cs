using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;
using TransformerCourse.Notebook;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 11 — Training a Transformer.</summary>
public class Lesson11Tests
{
    const string Num = @"([-+]?\d[\d.]*(?:E[-+]?\d+)?)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("02-transformer-architecture/11-training-a-transformer.ipynb");

    static double Parse(string s) => double.Parse(s.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [Fact]
    public void Runs_cleanly_within_its_budget()
    {
        Lesson.AssertRanCleanly();
        Assert.InRange(Parse(Regex.Match(Lesson.RunnerLog, @"done in ([\d.]+)s").Groups[1].Value), 0, 120);
    }

    [Fact]
    public void The_split_is_by_meaning_and_batches_use_teacher_forcing()
    {
        Assert.Equal(0, Lesson.Number(@"held-out examples whose number or date also occurs in training: (\d+)"));
        Assert.Matches(@"decoder input <bos> \S+", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("held-out examples") && h.Contains("&lt;date&gt;"));
    }

    [Fact]
    public void Label_smoothing_matches_the_hand_computation_and_has_a_floor()
    {
        Assert.Equal(0.901724, Lesson.Number(@"gets q = 1 − ε \+ ε/V = " + Num), 6);
        Assert.True(Lesson.Number(@"max difference = " + Num + @" \(tolerance 1E-09") < 1e-9);
        double floor = Lesson.Number(@"its floor is " + Num + " nats");
        double v = 58, e = 0.1, top = 1 - e + e / v, rest = e / v;
        Assert.Equal(-top * Math.Log(top) - (v - 1) * rest * Math.Log(rest), floor, 4);
        Assert.Equal(0.902, Lesson.Number(@"smoothed loss is lowest at p = " + Num), 3);
        Assert.Equal(1, Lesson.FigureCount("bar"));
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"bar\"") && h.Contains("\"token\""));
    }

    [Fact]
    public void The_noam_schedule_peaks_at_the_end_of_warm_up()
    {
        Assert.Equal(4000, Lesson.Number(@"paper \(d = 512, w = 4000\): peak at step (\d+)"));
        Assert.Equal(200, Lesson.Number(@"ours \(d = 64, w = 200, factor 0.5\): peak at step (\d+)"));
        Assert.Equal(2, Regex.Matches(Lesson.Printed, @"lr\(4w\)/peak = 0\.500").Count);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("d = 512, w = 4000"));
    }

    [Fact]
    public void Training_lowers_the_loss_towards_the_floor()
    {
        var counts = Regex.Match(Lesson.Printed, @"model: ([\d,]+) parameters \(closed form ([\d,]+)\)");
        Assert.True(counts.Success);
        Assert.Equal(counts.Groups[1].Value, counts.Groups[2].Value);
        Assert.Equal(500, Lesson.Number(@"trained (\d+) steps"));
        double first = Lesson.Number(@"loss at step 1 = " + Num);
        double last = Lesson.Number(@"mean of the last 50 steps = " + Num);
        double floor = Lesson.Number(@"the label-smoothing floor = " + Num);
        Assert.True(first > 3.5 && last < first / 3, $"loss {first} → {last}");
        Assert.InRange(last, floor, floor + 0.3);
        // "starts a little above ln V" and "falls fastest while the learning rate climbs"
        Assert.InRange(first, Math.Log(58), Math.Log(58) + 1);
        Assert.Equal(first - Math.Log(58), Lesson.Number(@"ln V = [\d.]+, " + Num + " nats"), 2);
        double warmUp = Lesson.Number(@"moving-average loss falls by " + Num + " per step during the warm-up");
        double after = Lesson.Number(@"per step during the warm-up \(steps 1–200\) and by " + Num + " per step after it");
        Assert.True(warmUp > after, $"{warmUp} vs {after}");
        // "After that it still falls, much more slowly, and ends a little above the floor".
        double lastSlope = Lesson.Number(@"moving average over the last 100 steps: [\d.]+ → [\d.]+, " + Num + " per step");
        Assert.InRange(lastSlope, 0, after);
        Assert.InRange(Lesson.Number(@"distance to the floor at the end " + Num), 0, 0.3);
        Assert.Contains(Lesson.Html, h => h.Contains("Training loss") && h.Contains("data-kind=\"line\""));
    }

    [Fact]
    public void Held_out_exact_match_reaches_95_percent()
    {
        double overall = Lesson.Number(@"held-out exact match = " + Num + " %");
        Assert.True(overall >= 95, $"held-out exact match {overall} %");
        var perTask = Regex.Matches(Lesson.Printed, @"  (\w+): held-out ([\d.]+) %, training ([\d.]+) % \(n = (\d+) held-out, (\d+) training\)").ToList();
        Assert.All(perTask, m => Assert.Equal("300", m.Groups[5].Value));
        Assert.Equal(3, perTask.Count);
        Assert.All(perTask, m => Assert.True(Parse(m.Groups[2].Value) >= 90, $"{m.Groups[1].Value}: {m.Groups[2].Value} %"));
        // "Held-out and training scores are close"
        Assert.All(perTask, m => Assert.True(Math.Abs(Parse(m.Groups[2].Value) - Parse(m.Groups[3].Value)) <= 3, m.Value));
    }

    [Fact]
    public void Beam_width_one_is_greedy_and_beam_can_beat_greedy()
    {
        var m = Regex.Match(Lesson.Printed, @"beam width 1 \(α = 0\) vs greedy on (\d+) held-out examples: identical tokens on (\d+), max \|log-prob difference\| = " + Num);
        Assert.True(m.Success, Lesson.Printed);
        Assert.True(int.Parse(m.Groups[1].Value) >= 50);
        Assert.Equal(m.Groups[1].Value, m.Groups[2].Value);
        Assert.True(Parse(m.Groups[3].Value) < 1e-4);
        Assert.Contains("greedy:        \"a\" p = 0.170", Lesson.Printed);
        Assert.Contains("beam, width 1: \"a\" p = 0.170", Lesson.Printed);
        Assert.Contains("beam, width 2: \"b\" p = 0.360", Lesson.Printed);
        // "with α > 0 … may return a longer output": greedy stops at once, the width-1 beam with α = 1 returns "a".
        Assert.Contains("second distribution, greedy:              \"\" p = 0.500", Lesson.Printed);
        Assert.Contains("second distribution, width 1, α = 1:      \"a\" p = 0.446", Lesson.Printed);
        Assert.Contains("second distribution, width 1, α = 0:      \"\" p = 0.500", Lesson.Printed);
    }

    static readonly string Comparison = @"beam width 4 differs from greedy on (\d+) of (\d+), higher log p on (\d+).*, lower on (\d+); exact match greedy " + Num + " %, beam " + Num + " %";

    [Fact]
    public void A_wider_beam_exposes_greedy_search_errors_on_an_undertrained_model_but_not_on_the_trained_one()
    {
        // The prose: the trained model's searches agree on every example; at step 150 the beam finds
        // more probable outputs (higher log p) than greedy on many (greedy's search errors), shown in a table; some
        // of the changed outputs are still wrong (model errors).
        var trained = Regex.Match(Lesson.Printed, @"trained model \(step 500\): " + Comparison);
        var unsure = Regex.Match(Lesson.Printed, @"model at step 150: " + Comparison);
        Assert.True(trained.Success && unsure.Success, Lesson.Printed);
        int examples = int.Parse(trained.Groups[2].Value);
        // "the two searches return the same output on every example of the first line"
        Assert.Equal(0, int.Parse(trained.Groups[1].Value));
        Assert.True(int.Parse(unsure.Groups[3].Value) >= examples / 10, unsure.Value);
        var outcome = Regex.Match(Lesson.Printed, @"model at step 150: .*of the changed outputs (\d+) became right, (\d+) stayed wrong, (\d+) went from right to wrong");
        Assert.True(outcome.Success);
        Assert.Equal(int.Parse(unsure.Groups[1].Value), Enumerable.Range(1, 3).Sum(g => int.Parse(outcome.Groups[g].Value)));
        Assert.True(int.Parse(outcome.Groups[2].Value) + int.Parse(outcome.Groups[3].Value) >= 1, outcome.Value);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("beam, width 4") && h.Contains("greedy log p") && h.Contains("reference log p"));
        // Model errors are proven only where the beam's wrong output beats the reference's own log p: "most of the
        // outputs that stayed wrong"; the two counts add up to the stayed-wrong count.
        var blame = Regex.Match(Lesson.Printed, @"model at step 150: .* (\d+) stayed wrong, .*more probable than the reference on (\d+) \(proven model errors\) and less probable on (\d+)");
        Assert.True(blame.Success, Lesson.Printed);
        int stayedWrong = int.Parse(blame.Groups[1].Value), modelErrors = int.Parse(blame.Groups[2].Value);
        Assert.Equal(stayedWrong, modelErrors + int.Parse(blame.Groups[3].Value));
        Assert.True(2 * modelErrors > stayedWrong, blame.Value);
        // The teacher-forced reference log p agrees with the searches' own where they returned the reference.
        var bounds = Regex.Matches(Lesson.Printed, @"where a search returned the reference, \|its log p − the teacher-forced log p\| ≤ " + Num).ToList();
        Assert.Equal(2, bounds.Count);
        Assert.All(bounds, b => Assert.True(Parse(b.Groups[1].Value) < 1e-4, b.Value));
    }

    [Fact]
    public void Cross_attention_heatmaps_show_the_learned_alignment()
    {
        Assert.Contains("translations: 5 march 2024 | 342 | seven hundred eight", Lesson.Printed);
        Assert.Equal(3, Lesson.Html.Count(h => h.Contains("Trained cross-attention") && h.Contains("data-kind=\"heatmap\"")));
        Assert.Contains(Lesson.Html, h => h.Contains("Trained cross-attention") && h.Contains("\"march\"") && h.Contains("\"2\""));
        Assert.True(Lesson.Number(@"decoder layer 2: " + Num + " % aligned") >= 90);
        // Baselines: chance level and the untrained model are far below the trained last layer.
        double chance = Lesson.Number(@"chance level \(largest weight on a random real source token\): " + Num + " %");
        Assert.InRange(chance, 5, 25);
        double untrained = Lesson.Number(@"untrained model: layer 1 [\d.]+ % aligned, layer 2 " + Num + " % aligned");
        double step150 = Lesson.Number(@"step 150 model: layer 1 [\d.]+ % aligned, layer 2 " + Num + " % aligned");
        Assert.True(untrained < 2 * chance, $"untrained layer 2 {untrained} % vs chance {chance} %");
        Assert.True(untrained < step150 && step150 < Lesson.Number(@"decoder layer 2: " + Num + " % aligned"), $"{untrained} < {step150} < trained");
        // "The first layer's attention is less focused and matches the alignment less often."
        Assert.True(Lesson.Number(@"decoder layer 1: " + Num + " % aligned") < Lesson.Number(@"decoder layer 2: " + Num + " % aligned"));
        Assert.True(Lesson.Number(@"decoder layer 1: .*largest weight per row " + Num) < Lesson.Number(@"decoder layer 2: .*largest weight per row " + Num));
        // The printed alignment the prose describes: year digits read the same digit, "march" reads the month,
        // the digits of a number read the words that name them.
        Assert.Matches(@"DateToText, predicts ← .*march ← [03], 2 ← 2, 0 ← 0, 2 ← 2, 4 ← 4", Lesson.Printed);
        Assert.Matches(@"WordsToDigits, predicts ← .*3 ← three, 4 ← forty, 2 ← two", Lesson.Printed);
        Assert.Matches(@"DigitsToWords, predicts ← .*seven ← 7, .*eight ← 8", Lesson.Printed);
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your SmoothedLossFloor — it still throws NotImplementedException.*PASS: your SmoothedLossFloor is right"
            + @".*NOT YET: your MyGreedy — on .* it returns no tokens.*PASS: your MyGreedy is right", Lesson.Printed);
    }
}
