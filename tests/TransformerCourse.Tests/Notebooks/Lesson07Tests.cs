using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Notebook;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 7 — Positional Encoding.</summary>
public class Lesson07Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("02-transformer-architecture/07-positional-encoding.ipynb");

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
    public void Attention_without_positions_is_permutation_equivariant_and_with_them_is_not()
    {
        Assert.True(Lesson.Number(@"no positions: max \|Attn\(PX\) − P·Attn\(X\)\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"no positions: max \|output for 'dog' in sentence 1 − output for 'dog' in sentence 2\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"no positions: max \|mean of sentence 1 − mean of sentence 2\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"with positions: max \|Attn\(PX \+ PE\) − P·Attn\(X \+ PE\)\| = " + Num) > 1e-2);
        Assert.True(Lesson.Number(@"with positions: max \|mean of sentence 1 − mean of sentence 2\| = " + Num) > 1e-2);
    }

    [Fact]
    public void The_sinusoidal_table_is_plotted_and_its_dot_product_depends_only_on_distance()
    {
        Assert.Contains("table [100, 64]; values between -1.000 and 1.000", Lesson.Printed);
        Assert.Equal(2 * Math.PI, Lesson.Number(@"shortest " + Num + " positions"), 2);
        Assert.True(Lesson.Number(@"max \|PE_p · PE_\(p\+k\) − Σ cos\(ω_i k\)\| over p ∈ \{0, 20, 45\}, k ≤ 54: " + Num) < 1e-4);
        Assert.Equal(32.0, Lesson.Number(@"at k = 0 the dot product is d/2 = " + Num), 3);
        Assert.True(Lesson.Number(@"at k = 1 it is " + Num) > Lesson.Number(@"at k = 10 it is " + Num));
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
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Previous-token accuracy on length-24 sequences"));
    }

    [Fact]
    public void Projections_break_the_distance_only_property()
    {
        Assert.True(Lesson.Number(@"PE_i · PE_j: mean spread along diagonals = " + Num) < 1e-4);
        double spread = Lesson.Number(@"with random W\^Q, W\^K: mean spread along diagonals = " + Num);
        double scale = Lesson.Number(@"the std of all entries of that matrix = " + Num);
        Assert.True(spread > 0.3 * scale, $"spread {spread}, scale {scale}");
        var link = Lesson.Cells.Select(c => string.Concat(c["source"]!.AsArray().Select(l => (string?)l))).Any(s => s.Contains("(../05-modern-variants/25-modern-building-blocks.ipynb)"));
        Assert.True(link, "the note on relative positions links Lesson 25");
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Check.FailMark));
        Assert.Equal(2, Lesson.Count(Check.PassMark));
        Assert.Matches(@"(?s)NOT YET: MySinusoidal.*PASS: MySinusoidal.*NOT YET: ShiftMatrix.*PASS: ShiftMatrix", Lesson.Printed);
    }
}
