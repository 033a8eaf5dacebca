using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 7 — Positional Encoding.</summary>
public class Lesson07Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("02-transformer-architecture/07-positional-encoding.ipynb");

    static double Parse(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>A number printed with thousands separators (N0), e.g. 47,117.</summary>
    static double Grouped(string pattern)
    {
        var m = Regex.Match(Lesson.Printed, pattern);
        Assert.True(m.Success, pattern);
        return Parse(m.Groups[1].Value.Replace(",", ""));
    }

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
    public void Attention_without_positions_is_permutation_equivariant_and_with_them_is_not()
    {
        Assert.True(Lesson.Number(@"no positions: max \|Attn\(PX\) − P·Attn\(X\)\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"no positions: max \|output for 'dog' in sentence 1 − output for 'dog' in sentence 2\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"no positions: max \|mean of sentence 1 − mean of sentence 2\| = " + Num) < 1e-5);
        // Measured against the output's own scale: the break is a visible fraction of it, not rounding noise.
        Assert.True(Lesson.Number(@"with positions: max \|Attn\(PX \+ PE\) − P·Attn\(X \+ PE\)\| = [\d.]+ = " + Num + " × the output's std") > 0.1);
        // A causal mask is tied to positions: no equivariance, and 'dog' differs between the two sentences.
        Assert.True(Lesson.Number(@"causal mask, no positions: max \|Attn\(PX\) − P·Attn\(X\)\| = [\d.]+ = " + Num + " × the output's std") > 1);
        Assert.True(Lesson.Number(@"causal mask, no positions: max \|output for 'dog' in sentence 1 − output for 'dog' in sentence 2\| = " + Num) > 0.1);
        Assert.True(Lesson.Number(@"with positions: max \|mean of sentence 1 − mean of sentence 2\| = " + Num) > 1e-2);
    }

    [Fact]
    public void The_sinusoidal_table_is_plotted_and_its_dot_product_depends_only_on_distance()
    {
        Assert.Contains("table [100, 64]; values between -1.000 and 1.000", Lesson.Printed);
        Assert.Equal(2 * Math.PI, Lesson.Number(@"shortest " + Num + " positions"), 2);
        // The longest wavelength is 2π·10000^((d−2)/d) for d = 64, below the limit 2π·10000 (both printed).
        double longest = Grouped(@"longest ([\d,]+) positions");
        Assert.Equal(2 * Math.PI * Math.Pow(10000, 62.0 / 64), longest, 1.0);
        double limit = Grouped(@"the limit 2π·10000 = ([\d,]+)");
        Assert.Equal(2 * Math.PI * 10000, limit, 1.0);
        Assert.True(longest < limit);
        Assert.True(Lesson.Number(@"the last two dimensions at most " + Num) < 0.02, "the rightmost columns barely change");
        Assert.True(Lesson.Number(@"dimension 0 spans " + Num) > 1.9);
        Assert.True(Lesson.Number(@"smallest distance between the codes of two different positions: " + Num) > 0.1);
        // Falls steeply over the first five steps, then much more slowly, with some rises.
        double early = Lesson.Number(@"average fall per step: " + Num);
        double late = Lesson.Number(@"average fall per step: [\d.]+ for k = 0…5, " + Num);
        Assert.True(early > 4 * late && late > 0, $"fall per step {early} then {late}");
        Assert.True(Lesson.Number(@"where it rises again at (\d+) of the") > 0);
        Assert.Contains("largest at k = 0: True", Lesson.Printed);
        // "the largest rebound (about 4) is not small next to the net fall from k = 5 to k = 54 (under 10)".
        double rebound = Lesson.Number(@"largest rebound for k = 5…54: " + Num);
        double netFall = Lesson.Number(@"net fall over k = 5…54: " + Num);
        Assert.InRange(rebound, 3.5, 4.5);
        Assert.InRange(netFall, 5, 10);
        Assert.True(rebound > 0.3 * netFall, $"rebound {rebound}, net fall {netFall}");
        // "a pair 32 positions apart is more similar than a pair 16 apart"; "clear only over the first few positions".
        Assert.Matches(@"k = 32 \([\d.]+\) is more similar than k = 16 \([\d.]+\): True", Lesson.Printed);
        Assert.InRange(Lesson.Number(@"every distance k ≤ (\d+) is more similar than every larger one"), 1, 10);
        Assert.True(Lesson.Number(@"max \|PE_p · PE_\(p\+k\) − Σ cos\(ω_i k\)\| over p ∈ \{0, 20, 45\}, k ≤ 54: " + Num) < 1e-4);
        Assert.Equal(32.0, Lesson.Number(@"at k = 0 the dot product is d/2 = " + Num), 3);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Sinusoidal positional encoding, 100 positions × 64 dimensions"));
        Assert.True(Lesson.FigureCount("heatmap") >= 3);
        Assert.True(Lesson.FigureCount("line") >= 3);
    }

    [Fact]
    public void Learned_positions_cost_Lmax_times_d_and_stop_at_Lmax()
    {
        var rows = Regex.Matches(Lesson.Printed, @"L_max = +(\d+), d = (\d+): L_max·d = +([\d,]+), counted = +([\d,]+)")
            .Select(m => (L: long.Parse(m.Groups[1].Value), D: long.Parse(m.Groups[2].Value),
                Formula: long.Parse(m.Groups[3].Value.Replace(",", "")), Counted: long.Parse(m.Groups[4].Value.Replace(",", "")))).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal(r.L * r.D, r.Counted));
        Assert.All(rows, r => Assert.Equal(r.Formula, r.Counted));
        Assert.Contains("a sequence of 30 tokens is refused:", Lesson.Printed);
        Assert.True(Lesson.Number(@"learned rows 0–15: smallest change from initialisation = " + Num) > 0.01);
        Assert.Equal(0, Lesson.Number(@"learned rows 16–23: largest change from initialisation = " + Num));
    }

    [Fact]
    public void Positions_solve_the_previous_token_task_and_extrapolate_differently()
    {
        var rows = Regex.Matches(Lesson.Printed, @"(no positions|sinusoidal|learned) *: length 16: ([\d.]+) \| length 24: position 0 ([\d.]+), positions 1–15 ([\d.]+), positions 16–23 ([\d.]+)")
            .ToDictionary(m => m.Groups[1].Value, m => (Train: Parse(m.Groups[2].Value), First: Parse(m.Groups[3].Value), Inside: Parse(m.Groups[4].Value), Beyond: Parse(m.Groups[5].Value)));
        Assert.Equal(3, rows.Count);
        Assert.True(rows["no positions"].Train < 0.4, $"no positions: {rows["no positions"]}");
        Assert.True(rows["sinusoidal"].Train >= 0.98 && rows["learned"].Train >= 0.98);
        // Learned: fine inside the trained range, lost beyond it (below the model without positions).
        Assert.True(rows["learned"].Inside >= 0.9, rows["learned"].ToString());
        Assert.True(rows["learned"].Beyond < rows["no positions"].Beyond, rows["learned"].ToString());
        // Sinusoidal: better than learned beyond the range, worse than learned inside it.
        Assert.True(rows["sinusoidal"].Beyond > rows["learned"].Beyond + 0.2, rows["sinusoidal"].ToString());
        Assert.True(rows["sinusoidal"].Inside < rows["learned"].Inside, rows["sinusoidal"].ToString());
        Assert.True(rows["sinusoidal"].First < 0.5 && rows["learned"].First < 0.5);
        // Learned positions fall to near chance beyond the trained range.
        Assert.True(rows["learned"].Beyond < 2.0 / 16, rows["learned"].ToString());
        // No positions: at the best order-blind rule (most frequent of the other 15 letters, expected ≈ 0.197 for 16
        // uniform letters out of 16), above the tie-split most frequent letter (≈ 0.193) and far above guessing.
        double randomLetter = Lesson.Number(@"a random letter of the sequence " + Num);
        double mostFrequent = Lesson.Number(@"its most frequent letter \(ties split\) " + Num);
        double orderBlindBest = Lesson.Number(@"the best order-blind rule \(most frequent of the other 15\) " + Num);
        Assert.InRange(orderBlindBest, 0.185, 0.21);
        Assert.InRange(mostFrequent, 0.17, orderBlindBest + 0.01);
        Assert.True(randomLetter > 1.0 / 16 && randomLetter < mostFrequent, $"random letter {randomLetter}, most frequent {mostFrequent}");
        Assert.InRange(rows["no positions"].Train, orderBlindBest - 0.02, orderBlindBest + 0.02);
        Assert.Matches(@"no positions at length 16: [\d.]+, [+−][\d.]+ from the best order-blind rule; within 0.02 of it: True", Lesson.Printed);
        // Sinusoidal: some positions beyond the range almost all right; lost accuracy at positions it knew.
        Assert.True(Lesson.Number(@"best of positions 16–23 is position \d+ \(" + Num + @"\)") > 0.9);
        Assert.True(Lesson.Number(@"worst of positions 1–15 is position \d+ \(" + Num + @"\)") < 0.5);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Previous-token accuracy on length-24 sequences"));
    }

    [Fact]
    public void Projections_break_the_distance_only_property()
    {
        Assert.True(Lesson.Number(@"PE_i · PE_j: mean spread along diagonals = " + Num) < 1e-4);
        double spread = Lesson.Number(@"with random W\^Q, W\^K: mean spread along diagonals = " + Num);
        double scale = Lesson.Number(@"the std of all entries of that matrix = " + Num);
        Assert.True(spread > 0.3 * scale, $"spread {spread}, scale {scale}");
        // The trained sinusoidal tagger's projections also vary along the diagonals, even inside the training length.
        double trainedSpread = Lesson.Number(@"with the trained sinusoidal tagger's W\^Q, W\^K: mean spread along diagonals = " + Num);
        double trainedScale = Lesson.Number(@"with the trained sinusoidal tagger's W\^Q, W\^K: mean spread along diagonals = [\d.]+; std of all entries = " + Num);
        Assert.True(trainedSpread > 0.3 * trainedScale, $"trained spread {trainedSpread}, scale {trainedScale}");
        double insideSpread = Lesson.Number(@"positions 0–15 only \(the training length\): mean spread along diagonals = " + Num);
        double insideScale = Lesson.Number(@"positions 0–15 only \(the training length\): mean spread along diagonals = [\d.]+; std of all entries = " + Num);
        Assert.True(insideSpread > 0.2 * insideScale, $"inside spread {insideSpread}, scale {insideScale}");
        var link = Lesson.Cells.Select(c => string.Concat(c["source"]!.AsArray().Select(l => (string?)l))).Any(s => s.Contains("(../05-modern-variants/25-modern-building-blocks.ipynb)"));
        Assert.True(link, "the note on relative positions links Lesson 25");
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your MySinusoidal.*PASS: your MySinusoidal.*NOT YET: your ShiftMatrix.*PASS: your ShiftMatrix", Lesson.Printed);
    }

    [Fact]
    public void At_length_24_the_new_keys_draw_the_sinusoidal_models_attention_from_the_right_key()
    {
        var right16 = Lesson.Number(@"sinusoidal, queries 1–15: weight on the right key " + Num + " at length 16");
        var right24 = Lesson.Number(@"weight on the right key [\d.]+ at length 16, " + Num + " at length 24");
        Assert.True(right24 < right16 - 0.05, $"right-key weight {right16} → {right24}");
        Assert.True(Lesson.Number(@"total weight on the new keys 16–23 = " + Num) > 0.1);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Mean attention weights at length 24 (trained on length 16)"));
    }

    [Fact]
    public void The_heatmaps_show_a_previous_key_line_that_only_the_sinusoidal_model_continues_past_position_15()
    {
        // Learned: "a sharp line just below the diagonal, most of their weight on key q − 1"; "below row 15 that line is gone".
        var learnedInside = Lesson.Number(@"learned, at length 24: weight on the right key q − 1 for queries 1–15 = " + Num);
        var learnedBeyond = Lesson.Number(@"learned, at length 24: weight on the right key q − 1 for queries 1–15 = [\d.]+, for queries 16–23 = " + Num);
        Assert.True(learnedInside > 0.5, $"learned queries 1–15 put {learnedInside} on key q − 1");
        Assert.True(learnedBeyond < 1.0 / 24 + 0.03, $"learned queries 16–23 put {learnedBeyond} on key q − 1");
        // Sinusoidal: "fainter but goes on past row 15 … several times what an even spread would give".
        var sinusoidalBeyond = Lesson.Number(@"sinusoidal, at length 24: weight on the right key q − 1 for queries 16–23 = " + Num);
        Assert.True(sinusoidalBeyond > 3.0 / 24 && sinusoidalBeyond < learnedInside, $"sinusoidal queries 16–23 put {sinusoidalBeyond} on key q − 1");
        var peaks = Regex.Match(Lesson.Printed, @"whose largest weight is on key q − 1: sinusoidal (\d+) of 8, learned (\d+) of 8");
        Assert.True(peaks.Success);
        Assert.True(int.Parse(peaks.Groups[1].Value) >= 5, "most sinusoidal queries 16–23 peak on q − 1");
        Assert.True(int.Parse(peaks.Groups[2].Value) <= 1, "almost no learned query 16–23 peaks on q − 1");
    }
}
