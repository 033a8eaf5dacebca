using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 23 — Flash Attention.</summary>
public class Lesson23Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("05-modern-variants/23-flash-attention.ipynb");

    static double Parse(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(2, "(24-mixture-of-experts.ipynb)");
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void Hbm_counts_show_flash_moving_several_times_fewer_elements_with_a_ratio_that_levels_off()
    {
        Assert.Contains("key block B_c = ceil(M / 4d) = 384", Lesson.Printed);
        var rows = Regex.Matches(Lesson.Printed, @"n = +(\d+): standard +([\d.]+) M element transfers, flash +([\d.]+) M: ([\d.]+)x fewer; S and P make up (\d+)%")
            .Select(m => (N: int.Parse(m.Groups[1].Value), Ratio: Parse(m.Groups[4].Value), Share: int.Parse(m.Groups[5].Value))).ToList();
        Assert.Equal([1024, 4096, 16384], rows.Select(r => r.N));
        Assert.All(rows, r => Assert.InRange(r.Ratio, 3, 4.0 * 384 / (3 * 64)));   // never above the limit 4 B_c / 3d the prose derives
        Assert.True(rows[2].Ratio - rows[1].Ratio < rows[1].Ratio - rows[0].Ratio, "the ratio levels off");
        Assert.All(rows, r => Assert.True(r.Share >= 94));
        var limit = Lesson.Number(@"limit for large n: 4 B_c / 3d = ([\d.]+)x");
        Assert.Equal(4.0 * 384 / (3 * 64), limit, 1);                                  // cell 5 says "the 8.0 printed above"
        Assert.Contains("every ratio below it: True; each step up smaller than the last: True", Lesson.Printed);
        Assert.All(rows, r => Assert.True(r.Ratio < limit));
    }

    [LessonFact]
    public void The_written_out_blocked_loop_matches_naive_and_skips_the_same_tiles_as_the_library()
    {
        var runs = Regex.Matches(Lesson.Printed, @"(full|causal): the loop above vs naive: max \|difference\| = " + Num
            + @", within 1e-5: True; tiles computed (\d+), skipped (\d+); BlockedAttention.Forward reports (\d+) and (\d+)").ToList();
        Assert.Equal(["full", "causal"], runs.Select(m => m.Groups[1].Value));
        foreach (var m in runs)
        {
            Assert.True(Parse(m.Groups[2].Value) <= 1e-5);
            Assert.Equal(m.Groups[3].Value, m.Groups[5].Value);                       // the loop computes what Forward computes
            Assert.Equal(m.Groups[4].Value, m.Groups[6].Value);
            Assert.Equal(4 * 5, int.Parse(m.Groups[3].Value) + int.Parse(m.Groups[4].Value));   // 200/64 -> 4 query blocks, 200/48 -> 5 key blocks
        }
        Assert.Equal("0", runs[0].Groups[4].Value);                                   // nothing skipped without a mask
        Assert.True(int.Parse(runs[1].Groups[4].Value) > 0, "causal skips tiles");
    }

    [LessonFact]
    public void Online_softmax_survives_large_logits_masked_blocks_and_a_fully_masked_row()
    {
        Assert.Contains("plain sum of exp(s) in float32: ∞", Lesson.Printed.Replace("Infinity", "∞"));
        Assert.Contains("after block 2 [-∞, -∞, -∞]: m = 1001, l =", Lesson.Printed.Replace("-Infinity", "-∞"));
        Assert.Contains("after block 3 [1003, 999, 1002]: m = 1003", Lesson.Printed);
        Assert.True(Lesson.Number(@"torch\.logsumexp [\d.]+: \|difference\| = " + Num) <= 1e-4);
        Assert.Matches(@"a fully masked row: streamed log-sum-exp = (-∞|-Infinity), plain softmax gives NaN: True", Lesson.Printed);
    }

    [LessonFact]
    public void Blocked_attention_matches_naive_and_built_in_within_1e_5_forward_and_backward()
    {
        foreach (var kind in new[] { "full", "causal" })
        {
            var m = Regex.Match(Lesson.Printed, kind + @" attention, blocks 64 x 48: max \|blocked - naive\| = " + Num + @", max \|blocked - built-in\| = " + Num + "; within 1e-5: True");
            Assert.True(m.Success, Lesson.Printed);
            Assert.True(Parse(m.Groups[1].Value) <= 1e-5 && Parse(m.Groups[2].Value) <= 1e-5);
        }
        var g = Regex.Match(Lesson.Printed, @"max \|dQ diff\| = " + Num + @", \|dK diff\| = " + Num + @", \|dV diff\| = " + Num + "; within 1e-5: True");
        Assert.True(g.Success, Lesson.Printed);
        Assert.All(new[] { 1, 2, 3 }, i => Assert.True(Parse(g.Groups[i].Value) <= 1e-5));
        Assert.Contains("query 7: max |output| = 0, max |dQ| = 0; NaN anywhere: False", Lesson.Printed);
        Assert.True(Lesson.Number(@"other rows vs naive \(lesson 4's safe version\): max \|difference\| = " + Num) <= 1e-5);
        Assert.Contains("Forward reports tiles computed: 3, skipped as wholly in the future: 1", Lesson.Printed);
        Assert.Contains("largest weight in the skipped tile (queries t0-t3, keys t4-t7): 0", Lesson.Printed);
        Assert.True(Lesson.Number(@"rebuilt weights vs naive: max \|difference\| = " + Num) <= 1e-5);
        Assert.Equal(1, Lesson.FigureCount("heatmap"));
    }

    [LessonFact]
    public void Measured_peak_memory_naive_is_at_least_10x_blocked_at_4096_and_grows_quadratically()
    {
        Assert.Matches(@"12 measurements \+ 4 baselines, one child process each", Lesson.Printed);
        var rows = Regex.Matches(Lesson.Printed, @"n = +(\d+): own peak naive +" + Num + " MiB, blocked +" + Num + " MiB, fused +" + Num + @" MiB \| median ms naive +" + Num + ", blocked +" + Num + ", fused +" + Num)
            .ToDictionary(m => int.Parse(m.Groups[1].Value), m => Enumerable.Range(2, 6).Select(i => Parse(m.Groups[i].Value)).ToArray());
        Assert.Equal([512, 1024, 2048, 4096], rows.Keys);
        var at4096 = rows[4096];
        Assert.True(at4096[0] >= 10 * at4096[1], $"naive {at4096[0]} MiB vs blocked {at4096[1]} MiB");   // the goal, measured
        Assert.True(at4096[0] >= 10 * at4096[2], "fused builds no n x n matrix either");
        Assert.Contains("(goal: at least 10x): met", Lesson.Printed);
        Assert.InRange(Lesson.Number(@"naive's peak = ([\d.]+) score-sized matrices"), 2.5, 3.5);      // scores, scaled scores, weights
        Assert.InRange(Lesson.Number(@"attention's own peak grows ([\d.]+)x for naive"), 3.3, 4.7);                 // quadratic in n
        Assert.True(Lesson.Number(@"x for naive, ([\d.]+)x for blocked") < 3.3);
        Assert.All(rows.Values, r => Assert.All(r[3..], ms => Assert.True(ms > 0)));
        Assert.Equal(2, Lesson.FigureCount("line"));
        Assert.Contains(Lesson.Html, h => h.Contains("peak memory above baseline (MiB)") && h.Contains("\"type\":\"log\""));
        Assert.Matches(@"fastest at n = 4096 on this CPU \(\d+ threads\): (naive|blocked|fused)", Lesson.Printed);
    }

    [LessonFact]
    public void Exercise_checks_fail_on_the_placeholders_and_pass_on_the_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Contains("added as they are", Lesson.Printed);
        Assert.Contains("NotImplementedException", Lesson.Printed);
    }
}
