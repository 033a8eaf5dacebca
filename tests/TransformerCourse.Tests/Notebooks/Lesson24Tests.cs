using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 24 — Mixture of Experts.</summary>
public class Lesson24Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("05-modern-variants/24-mixture-of-experts.ipynb");

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(3, "(25-modern-building-blocks.ipynb)");
        Assert.Contains("(23-flash-attention.ipynb)", string.Concat(Lesson.Cells.ElementAt(2)["source"]!.AsArray().Select(l => (string?)l)));
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void Top_k_gates_follow_the_stated_convention()
    {
        var rows = Regex.Matches(Lesson.Printed, @"\n +\d  ([\d. ]+?) +\| +(\d) \(([\d.]+)\) +\| (\d), (\d) \(([\d.]+), ([\d.]+)\)");
        Assert.Equal(6, rows.Count);
        foreach (Match r in rows)
        {
            var p = r.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Parse).ToArray();
            int best = int.Parse(r.Groups[2].Value);
            Assert.Equal(p.Max(), p[best], 2);
            Assert.Equal(p[best], Parse(r.Groups[3].Value), 2);                         // k = 1: the probability itself
            Assert.Equal(best, int.Parse(r.Groups[4].Value));
            Assert.Equal(1.0, Parse(r.Groups[6].Value) + Parse(r.Groups[7].Value), 1);    // k = 2: renormalised
            Assert.True(Parse(r.Groups[6].Value) >= Parse(r.Groups[7].Value));
        }
        Assert.Contains("(tolerance 1e-6: agree)", Lesson.Printed);
        Assert.True(Lesson.Number(@"softmax over the kept logits: max gap " + Num) < 1e-6);
    }

    [LessonFact]
    public void Capacity_drops_the_later_tokens_of_the_overloaded_expert_and_the_share_is_checked()
    {
        var lines = Regex.Matches(Lesson.Printed, @"c = ([\d.]+): capacity +(\d+), kept (\S+) \(· = dropped\), dropped share ([\d.]+); Σ max\(0, load − C\) / T = ([\d.]+): (\w+)");
        Assert.Equal(3, lines.Count);
        Assert.Equal(["4", "5", "8"], lines.Select(m => m.Groups[2].Value));
        Assert.All(lines, m => Assert.Equal("agree", m.Groups[6].Value));
        var shares = lines.Select(m => Parse(m.Groups[4].Value)).ToArray();
        Assert.True(shares[0] > shares[1] && shares[1] > shares[2], "a larger capacity factor drops fewer tokens");
        Assert.Equal("001020·3·1·2··31", lines[0].Groups[3].Value);   // expert 0's later tokens dropped first
        Assert.Contains("tokens per expert: [9, 3, 2, 2]", Lesson.Printed);
    }

    [LessonFact]
    public void Balancing_loss_extremes_and_gradient_are_checked()
    {
        foreach (int n in new[] { 2, 4, 8 })
            Assert.Contains($"N = {n}: uniform routing → 1.000000 (closed form 1), all tokens on one expert → {n}.000000 (closed form N = {n})", Lesson.Printed);
        Assert.Contains("f needs a gradient: False", Lesson.Printed);
        Assert.True(Lesson.Number(@"∂loss/∂p\(x\) vs N·f/T for every token: max gap " + Num) < 1e-6);
    }

    [LessonFact]
    public void Compute_per_token_and_the_side_by_side_table()
    {
        double macRatio = Lesson.Number(@"MoE / dense multiply-adds per token: " + Num);
        Assert.InRange(macRatio, 1.0, 1.01);                                   // "the dense count plus the router"
        Assert.Contains("(the router adds 512 per token)", Lesson.Printed);
        Assert.InRange(Lesson.Number(@"with top-2 routing: " + Num), 1.3, 2.0);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("router (width"));
        Assert.InRange(Lesson.Number(@"MoE total parameters: " + Num), 2.5, 4.0);   // "several times"
        Assert.InRange(Lesson.Number(@"active per token: " + Num), 1.0, 1.01);       // "about the same number"
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("training tokens / s (median)"));
        // Measured next to the count, with the verdict printed (no claim about which way it goes).
        Assert.Matches(@"measured training throughput, MoE with balancing / dense: [\d.]+; predicted by the multiply-add count: 0.996; within 25% of the count: (yes|no)", Lesson.Printed);
    }

    [LessonFact]
    public void Training_beats_the_baselines_and_reports_the_comparison()
    {
        double uniform = Lesson.Number(@"uniform ln 65 = " + Num), bigram = Lesson.Number(@"bigram " + Num);
        Assert.Equal(Math.Log(65), uniform, 3);
        var runs = Regex.Matches(Lesson.Printed, @"(dense|MoE, balancing loss|MoE, no balancing loss) +600 steps in +[\d.]+ s: validation loss ([\d.]+)");
        Assert.Equal(3, runs.Count);
        Assert.All(runs, m => Assert.True(Parse(m.Groups[2].Value) < bigram, m.Value));
        // "After the same number of steps the dense model has the lower validation loss."
        Assert.True(Lesson.Number(@"MoE with balancing vs dense: dense lower by " + Num) > 0.05);
        Assert.True(Lesson.Number(@"(?m)^dense +600 steps in +[\d.]+ s: validation loss " + Num) < Lesson.Number(@"MoE, no balancing loss +600 steps in +[\d.]+ s: validation loss " + Num));
    }

    [LessonFact]
    public void Utilisation_heatmaps_and_the_imbalance_verdict()
    {
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Share of tokens routed to each expert")
            && h.Contains("MoE, no balancing loss, layer 2") && h.Contains("expert 3") && h.Contains("steps 576–600") && h.Contains("training steps"));
        var peaks = Regex.Matches(Lesson.Printed, @"(MoE, balancing loss|MoE, no balancing loss): peak share of one expert ([\d.]+) \(layer (\d), steps (\d+)–(\d+)\); collapse \(≥ 0.90 of a layer's tokens in some window\): (yes|no)")
            .ToDictionary(m => m.Groups[1].Value, m => (Peak: Parse(m.Groups[2].Value), End: int.Parse(m.Groups[5].Value), Collapse: m.Groups[6].Value));
        var last = Regex.Matches(Lesson.Printed, @"last window: largest expert share ([\d.]+) \(even split 0.25\), evenness ([\d.]+) \(1 = even, 0 = one expert\), dropped share ([\d.]+)")
            .Select(m => (Max: Parse(m.Groups[1].Value), Evenness: Parse(m.Groups[2].Value), Dropped: Parse(m.Groups[3].Value))).ToList();
        Assert.Equal(2, peaks.Count);
        Assert.Equal(2, last.Count);
        var (withLoss, without) = (last[0], last[1]);
        var (peakWith, peakWithout) = (peaks["MoE, balancing loss"], peaks["MoE, no balancing loss"]);
        // "Without the balancing loss, one layer sends almost every token to one expert early in training."
        Assert.True(peakWithout.Peak >= 0.9 && peakWithout.Collapse == "yes", $"peak without {peakWithout}");
        Assert.True(peakWithout.End <= 100, "the collapse shows within the first 100 steps");
        // "... later it spreads out again somewhat, but still ends less even (largest share well above the balanced run's)
        // and drops many more tokens."
        Assert.True(without.Max < peakWithout.Peak - 0.1);
        Assert.True(without.Evenness < withLoss.Evenness - 0.05);
        Assert.True(without.Max > 1.6 * withLoss.Max);
        Assert.True(without.Dropped > 3 * withLoss.Dropped);
        Assert.Contains("without the balancing loss the routing ends more uneven", Lesson.Printed);
        // "With the loss every expert stays close to the even share of 0.25 throughout."
        Assert.True(peakWith.Peak < 0.4 && peakWith.Collapse == "no", $"peak with {peakWith}");
        Assert.True(withLoss.Max <= 0.3);
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(3, Lesson.Count(Exercise.FailMark));
        Assert.Equal(3, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your BalanceLoss — .*returns 0.*PASS: your BalanceLoss.*NOT YET: your TopKGating — .*PASS: your TopKGating"
            + @".*NOT YET: your KeepWithinCapacity — .*keeps every token.*PASS: your KeepWithinCapacity", Lesson.Printed);
    }
}
