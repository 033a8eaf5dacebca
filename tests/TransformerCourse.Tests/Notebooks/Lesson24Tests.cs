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
        // "1 is not the minimum in general ... with P = f it is N·Σf² ≥ 1": the printed counterexample, worked by hand:
        // f = (0.75, 0.25), P = (0.3825, 0.6175) → 2·(0.286875 + 0.154375) = 0.8825; N·Σf² = 2·(0.5625 + 0.0625) = 1.25.
        Assert.Contains("f = [0.75, 0.25], loss 0.883 (below 1); with P = f: N·Σf² = 1.250", Lesson.Printed);
    }

    [LessonFact]
    public void The_moe_layer_matches_a_per_token_loop_and_dropped_tokens_get_zero()
    {
        var m = Regex.Match(Lesson.Printed, @"16 tokens, 4 experts, top-1, capacity (\d+): experts chosen \[([\d ]+)\], kept (\d+), dropped (\d+) \(library's dropped share ([\d.]+)\)");
        Assert.True(m.Success, "the layer-check line is printed");
        Assert.Equal("2", m.Groups[1].Value);                                   // ⌈0.5 · 16 / 4⌉
        var chosen = m.Groups[2].Value.Split(' ').Select(int.Parse).ToArray();
        int expectedDrops = Enumerable.Range(0, 4).Sum(e => Math.Max(0, chosen.Count(c => c == e) - 2));
        Assert.Equal(16, chosen.Length);
        Assert.Equal(expectedDrops, int.Parse(m.Groups[4].Value));
        Assert.Equal(16 - expectedDrops, int.Parse(m.Groups[3].Value));
        Assert.True(expectedDrops >= 8);
        Assert.Equal(expectedDrops / 16.0, Parse(m.Groups[5].Value), 3);
        Assert.True(Lesson.Number(@"Route vs the per-token loop: max gap " + Num) < 1e-6);
        Assert.Contains("Route vs the per-token loop: max gap", Lesson.Printed);
        Assert.Matches(@"largest \|output\| of a dropped token: 0 \(exactly 0: yes\)", Lesson.Printed);
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
        // The single training runs' wall clock is shown for what it is, next to the median.
        Assert.InRange(Lesson.Number(@"the same ratio from the single training runs' wall clock: " + Num + @" \(one run each, not a measurement\)"), 0.1, 10);
    }

    [LessonFact]
    public void Training_beats_the_baselines_and_reports_the_comparison()
    {
        double uniform = Lesson.Number(@"uniform ln 65 = " + Num), bigram = Lesson.Number(@"bigram " + Num);
        Assert.Equal(Math.Log(65), uniform, 3);
        var runs = Regex.Matches(Lesson.Printed, @"(dense|MoE, balancing loss|MoE, no balancing loss) +600 steps: validation loss ([\d.]+) .*; one run, wall clock [\d.]+ s");
        Assert.Equal(3, runs.Count);
        Assert.All(runs, m => Assert.True(Parse(m.Groups[2].Value) < bigram, m.Value));
        // "After the same number of steps the dense model has the lower validation loss."
        Assert.True(Lesson.Number(@"MoE with balancing vs dense: dense lower by " + Num) > 0.05);
        Assert.True(Lesson.Number(@"(?m)^dense +600 steps: validation loss " + Num) < Lesson.Number(@"MoE, no balancing loss +600 steps: validation loss " + Num));
    }

    [LessonFact]
    public void Utilisation_heatmaps_and_the_imbalance_verdict()
    {
        var heatmap = Assert.Single(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Share of tokens routed to each expert"));
        Assert.Contains("MoE, no balancing loss, layer 2", heatmap);
        Assert.Contains("training steps: 576–600<br>expert: 3<br>share of tokens", heatmap);   // hover names rows and columns for what they are
        Assert.DoesNotContain("query 0:", heatmap);
        Assert.Equal(3, heatmap.Split("\"showscale\":false").Length - 1);                   // one colour bar for the four panels
        Assert.Contains("\"ticktext\":[\"76–100\",\"176–200\",\"276–300\",\"376–400\",\"476–500\",\"576–600\"]", heatmap);
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
    public void Why_dense_is_ahead_is_presented_as_hypotheses_with_the_measured_gates_and_balancing_gap()
    {
        var gates = Regex.Matches(Lesson.Printed, @"(MoE, balancing loss|MoE, no balancing loss|MoE, output × 4) +mean gate of the chosen expert \(validation batch\): layer 1 ([\d.]+), layer 2 ([\d.]+) \(dense FFN: 1, uniform router: 0.25\)");
        Assert.Equal(3, gates.Count);
        foreach (Match g in gates)
            foreach (int i in new[] { 2, 3 })
                Assert.InRange(Parse(g.Groups[i].Value), 0.25, 1.0);            // a top-1 gate is the largest of N probabilities
        double bal = Lesson.Number(@"MoE, balancing loss +600 steps: validation loss " + Num);
        double unbal = Lesson.Number(@"MoE, no balancing loss +600 steps: validation loss " + Num);
        var gap = Regex.Match(Lesson.Printed, @"validation loss without minus with balancing: ([-+][\d.]+) nats \((within|not within) 0.05\)");
        Assert.True(gap.Success);
        Assert.Equal(unbal - bal, Parse(gap.Groups[1].Value), 2);
        Assert.Equal(Math.Abs(Parse(gap.Groups[1].Value)) < 0.05 ? "within" : "not within", gap.Groups[2].Value);
        // The control for hypothesis 2: the MoE with its output × N, against the dense twin and the plain MoE.
        var control = Regex.Match(Lesson.Printed, @"control, MoE, output × 4 \(with balancing\): validation loss ([\d.]+) vs dense ([\d.]+) and MoE ([\d.]+): closes (-?\d+)% of the gap \((most of it|part of it|little or none of it)\)");
        Assert.True(control.Success, "the control line is printed");
        double scaled = Parse(control.Groups[1].Value), dense = Parse(control.Groups[2].Value);
        Assert.Equal(bal, Parse(control.Groups[3].Value), 3);
        double closed = (bal - scaled) / (bal - dense);
        Assert.InRange(double.Parse(control.Groups[4].Value) - closed * 100, -3, 3);      // printed from unrounded losses
        Assert.Equal(closed >= 0.5 ? "most of it" : closed > 0.1 ? "part of it" : "little or none of it", control.Groups[5].Value);
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
