using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 2 — Scaled Dot-Product Attention. Each claim the prose makes about an output is asserted here.</summary>
public class Lesson02Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    static ExecutedNotebook Run() => ExecutedNotebook.Run("01-attention-mechanism/02-scaled-dot-product-attention.ipynb");

    static double Parse(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    [Fact]
    public void Runs_cleanly_and_prints_the_setup_line()
    {
        var nb = Run();
        nb.AssertRanCleanly();
        Assert.Matches(@"Device: (cpu|cuda)", nb.Printed);
        // No compiler diagnostic of any level reaches the learner (e.g. "info CS9236" for nested lambdas).
        Assert.DoesNotMatch(@"\binfo CS\d{4}\b", nb.Printed);
        // "Each row of the weights sums to one".
        Assert.Contains("row sums of the weights: 1.000000, 1.000000, 1.000000", nb.Printed);
    }

    [Fact]
    public void The_score_variance_grows_like_d_k_and_scaling_undoes_it()
    {
        var nb = Run();
        var rows = Regex.Matches(nb.Printed, @"d_k =\s+(\d+): Var\(q·k\) =\s+([\d.]+)\s+Var\(q·k/√d_k\) = ([\d.]+)")
            .Select(m => (D: Parse(m.Groups[1].Value), Raw: Parse(m.Groups[2].Value), Scaled: Parse(m.Groups[3].Value))).ToList();
        Assert.Equal(11, rows.Count);
        for (int i = 1; i < rows.Count; i++) Assert.True(rows[i].Raw > rows[i - 1].Raw, $"Var(q·k) should grow with d_k: {rows[i - 1]} then {rows[i]}");
        // "every point is within the few percent printed above".
        Assert.All(rows, r => Assert.InRange(r.Raw / r.D, 0.9, 1.1));
        Assert.All(rows, r => Assert.InRange(r.Scaled, 0.9, 1.1));
        Assert.True(nb.Number(@"Var\(q·k\) vs d_k " + Num + " %") < 10);
        Assert.True(nb.Number(@"Var\(q·k/√d_k\) vs 1 " + Num + " %") < 10);
        // "every width is within 3 SE": each row's deviation in standard errors, and the verdict line.
        var ses = Regex.Matches(nb.Printed, @"off by\s+([-+][\d.]+) SE").Select(m => Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(11, ses.Count);
        Assert.All(ses, se => Assert.InRange(Math.Abs(se), 0, 3));
        Assert.True(nb.Number(@"largest deviation: " + Num + " standard errors") <= 3);
        Assert.Contains("all 11 widths within 3 SE", nb.Printed);
        Assert.True(nb.FigureCount("line") >= 3);
    }

    [Fact]
    public void Unscaled_softmax_saturates_and_its_gradient_vanishes()
    {
        var nb = Run();
        Assert.InRange(nb.Number(@"entropy ln 32 = ([\d.]+) nats"), 3.46, 3.47);
        Assert.True(nb.Number(@"At d_k = 1024: entropy raw = ([\d.]+) nats") < 0.5);
        Assert.True(nb.Number(@"At d_k = 1024: entropy raw = [\d.]+ nats, scaled = ([\d.]+) nats") > 2.5);
        Assert.True(nb.Number(@"At d_k = 1024: (\d+) % of the raw rows") >= 50);
        double raw = nb.Number(@"median gradient norm raw = (\d[\d.]*E[+\-]\d+)");
        double scaled = nb.Number(@"median gradient norm raw = [\d.E+\-]+, scaled = (\d[\d.]*E[+\-]\d+)");
        Assert.True(raw < 1e-3 && scaled > 0.1, $"raw {raw}, scaled {scaled}");
        // "the entropy falls at every step"; "the gradient ... rises slightly, up to the peak width printed above
        // ... and then dives, by the powers of ten printed above".
        Assert.Contains("nats from d_k = 1 to 1024, lower at every step: True", nb.Printed);
        Assert.True(nb.Number(@"then falls " + Num + " powers of ten by d_k = 1024") >= 3);
        double peakAt = nb.Number(@"to its peak [\d.]+ at d_k = (\d+)");
        Assert.InRange(peakAt, 2, 64);
        Assert.InRange(nb.Number(@"at d_k = \d+ \(×" + Num + @"\), then falls"), 1.01, 1.5);
        // "With the 1/√d_k factor both stay level".
        double eLo = nb.Number(@"scaled scores: entropy between " + Num), eHi = nb.Number(@"scaled scores: entropy between [\d.]+ and " + Num);
        double gLo = nb.Number(@"gradient between " + Num), gHi = nb.Number(@"gradient between [\d.]+ and " + Num);
        Assert.True(eHi / eLo < 1.1 && gHi / gLo < 1.2, $"entropy {eLo}–{eHi}, gradient {gLo}–{gHi}");
        Assert.Contains(nb.Html, h => h.Contains("<table") && h.Contains("entropy, raw (nats)"));
    }

    [Fact]
    public void From_scratch_matches_the_builtin_to_float32_rounding()
    {
        var nb = Run();
        // "Differences below 1e-6 are float32 rounding".
        Assert.True(nb.Number(@"max \|from scratch − built-in\| = " + Num) < 1e-6);
        Assert.True(nb.Number(@"max \|library Compute − built-in\| = " + Num) < 1e-6);
        Assert.True(nb.Number(@"max \|gradient from scratch − gradient built-in\| = " + Num) < 1e-6);
        Assert.Contains("all within tolerance 1E-005: True", nb.Printed);
        Assert.True(nb.Number(@"max \|forgot the scale − built-in\| = " + Num) > 0.1);
        Assert.Contains("Bad input is refused:", nb.Printed);
    }

    [Fact]
    public void Heatmaps_show_the_diagonal_usually_wins_and_the_exception()
    {
        var nb = Run();
        Assert.True(nb.FigureCount("heatmap") >= 2);
        Assert.Contains(nb.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("\"because\""));
        // "it" mostly attends to itself (the exercise starts from there).
        Assert.True(nb.Number(@"""it"" puts (\d+) % of its attention on itself") > 50);
        // "The diagonal usually wins ... but not always": wins outright, ties and losses counted separately.
        Assert.Equal(6, nb.Number(@"self is the best match outright in (\d+) of 10 rows"));
        Assert.Equal(3, nb.Number(@"tied with another word in (\d+)"));
        Assert.Equal(1, nb.Number(@"beaten in (\d+)"));
        // "was" scores "sat" above itself; "because" and "on" tie with equal scores; the two "the"s tie.
        Assert.Contains("loss: \"was\" → \"sat\"", nb.Printed);
        var tie = Regex.Match(nb.Printed, @"tie: ""because"" \(position 6\) gives ([\d.]+) to itself and to ""on"" \(position 3\); score x_because·x_on = ([\d.]+), ‖x_because‖² = ([\d.]+)");
        Assert.True(tie.Success, "because/on tie line");
        Assert.Equal(Parse(tie.Groups[2].Value), Parse(tie.Groups[3].Value));
        Assert.Equal(2, Regex.Matches(nb.Printed, @"tie: ""the"" \(position [04]\) gives [\d.]+ to itself and to ""the""").Count);
        // "Without the scale ... one key takes more than 90 % in most rows"; "With it the weights are spread out".
        Assert.True(nb.Number(@"more than 90 %: raw (\d+) of 10") >= 6);
        Assert.Equal(0, nb.Number(@"more than 90 %: raw \d+ of 10, scaled (\d+) of 10"));
        Assert.True(nb.Number(@"largest weight per row, averaged: raw ([\d.]+)") > 0.9);
        Assert.True(nb.Number(@"largest weight per row, averaged: raw [\d.]+, scaled ([\d.]+)") < 0.6);
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        var nb = Run();
        Assert.Equal(2, nb.Count(Exercise.FailMark));
        Assert.Equal(2, nb.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your PredictedVariance.*PASS: your PredictedVariance.*NOT YET: your query.*PASS: your query", nb.Printed);
    }
}
