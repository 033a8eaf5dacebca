using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Notebook;

namespace TransformerCourse.Tests.Notebooks;

public class Lesson02Tests
{
    static ExecutedNotebook Run() => ExecutedNotebook.Run("01-attention-mechanism/02-scaled-dot-product-attention.ipynb");

    static double Parse(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    [Fact]
    public void Runs_cleanly_and_prints_the_setup_line()
    {
        var nb = Run();
        nb.AssertRanCleanly();
        Assert.Matches(@"Device: (cpu|cuda)", nb.Printed);
        Assert.Contains("row sums of the weights: 1.000000, 1.000000, 1.000000", nb.Printed);
    }

    [Fact]
    public void The_score_variance_grows_like_d_k_and_scaling_undoes_it()
    {
        var nb = Run();
        var rows = Regex.Matches(nb.Printed, @"d_k =\s+(\d+): Var\(q·k\) =\s+([\d.]+)\s+Var\(q·k/√d_k\) = ([\d.]+)")
            .Select(m => (D: Parse(m.Groups[1].Value), Raw: Parse(m.Groups[2].Value), Scaled: Parse(m.Groups[3].Value))).ToList();
        Assert.Equal(11, rows.Count);
        Assert.Equal(1024, rows[^1].D);
        for (int i = 1; i < rows.Count; i++) Assert.True(rows[i].Raw > rows[i - 1].Raw, $"Var(q·k) should grow with d_k: {rows[i - 1]} then {rows[i]}");
        Assert.All(rows, r => Assert.InRange(r.Raw / r.D, 0.85, 1.15));
        Assert.All(rows, r => Assert.InRange(r.Scaled, 0.85, 1.15));
        Assert.True(nb.FigureCount("line") >= 3);
    }

    [Fact]
    public void Unscaled_softmax_saturates_and_its_gradient_vanishes()
    {
        var nb = Run();
        double uniform = nb.Number(@"entropy ln 32 = ([\d.]+) nats");
        Assert.InRange(uniform, 3.46, 3.47);
        Assert.True(nb.Number(@"At d_k = 1024: entropy raw = ([\d.]+) nats") < 0.5);
        Assert.True(nb.Number(@"At d_k = 1024: entropy raw = [\d.]+ nats, scaled = ([\d.]+) nats") > 2.5);
        Assert.True(nb.Number(@"At d_k = 1024: (\d+) % of the raw rows") >= 50);
        double raw = nb.Number(@"median gradient norm raw = (\d[\d.]*E[+\-]\d+)");
        double scaled = nb.Number(@"median gradient norm raw = [\d.E+\-]+, scaled = (\d[\d.]*E[+\-]\d+)");
        Assert.True(raw < 1e-3 && scaled > 0.1, $"raw {raw}, scaled {scaled}");
        Assert.Contains(nb.Html, h => h.Contains("<table") && h.Contains("entropy, raw (nats)"));
    }

    [Fact]
    public void From_scratch_matches_the_builtin_to_1e5()
    {
        var nb = Run();
        Assert.True(nb.Number(@"max \|from scratch − built-in\| = ([\d.E+\-]+)") < 1e-5);
        Assert.True(nb.Number(@"max \|library Compute − built-in\| = ([\d.E+\-]+)") < 1e-5);
        Assert.True(nb.Number(@"max \|gradient from scratch − gradient built-in\| = ([\d.E+\-]+)") < 1e-5);
        Assert.Contains("all within tolerance 1E-005: True", nb.Printed);
        Assert.True(nb.Number(@"max \|forgot the scale − built-in\| = ([\d.E+\-]+)") > 0.1);
        Assert.Contains("Bad input is refused:", nb.Printed);
    }

    [Fact]
    public void Draws_weight_heatmaps_with_tokens()
    {
        var nb = Run();
        Assert.True(nb.FigureCount("heatmap") >= 2);
        Assert.Contains(nb.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("\"because\""));
        // With Q = K = X the diagonal wins: "it" looks at itself more than at "cat".
        Assert.True(nb.Number(@"""it"" puts (\d+) % of its attention on itself") > nb.Number(@"on itself and (\d+) % on ""cat"""));
        Assert.True(nb.Number(@"largest weight per row, averaged: raw ([\d.]+)") > 0.9);
        Assert.True(nb.Number(@"largest weight per row, averaged: raw [\d.]+, scaled ([\d.]+)") < 0.6);
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        var nb = Run();
        Assert.Equal(2, nb.Count(Check.FailMark));
        Assert.Equal(2, nb.Count(Check.PassMark));
        // The placeholder's check comes before the solution's, for each exercise.
        Assert.Matches(@"(?s)NOT YET: PredictedVariance.*PASS: PredictedVariance.*NOT YET: myQuery.*PASS: myQuery", nb.Printed);
    }
}
