using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 6 — Multi-Head Attention.</summary>
public class Lesson06Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("02-transformer-architecture/06-multi-head-attention.ipynb");

    static double Parse(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_with_slide_types_and_hidden_solutions()
    {
        Lesson.AssertRanCleanly();
        Assert.Matches(@"Device: (cpu|cuda)", Lesson.Printed);
        Assert.All(Lesson.Cells, c => Assert.NotNull((string?)c["metadata"]?["slideshow"]?["slide_type"]));
        var solutions = Lesson.Cells.Where(c => c["metadata"]?["tags"]?.AsArray().Any(t => (string?)t == "solution") == true).ToList();
        Assert.Equal(2, solutions.Count);
        Assert.All(solutions, c => Assert.True((bool?)c["metadata"]?["jupyter"]?["source_hidden"] == true));
    }

    [LessonFact]
    public void The_five_steps_print_their_shapes_and_equal_the_module()
    {
        var printed = Lesson.Printed;
        Assert.Contains("1. project  Q      [2, 5, 16]", printed);
        Assert.Contains("2. split    Q      [2, 4, 5, 4]", printed);
        Assert.Contains("3. attend   scores [2, 4, 5, 5], weights [2, 4, 5, 5], outputs [2, 4, 5, 4]", printed);
        Assert.Contains("4. concat          [2, 5, 16]", printed);
        Assert.Contains("5. project  output [2, 5, 16]", printed);
        Assert.True(Lesson.Number(@"max \|five steps − MultiHeadAttention.forward\| = " + Num) < 1e-5);
        Assert.Contains("MergeHeads(SplitHeads(q)) == q: True", printed);
    }

    [LessonFact]
    public void Parameter_count_is_4d2_plus_4d_and_does_not_depend_on_h()
    {
        var rows = Regex.Matches(Lesson.Printed, @"d = +(\d+): 4d² \+ 4d = +([\d,]+) +counted in the module = +([\d,]+) +equal: (\w+)")
            .Select(m => (D: long.Parse(m.Groups[1].Value), Formula: long.Parse(m.Groups[2].Value.Replace(",", "")),
                Counted: long.Parse(m.Groups[3].Value.Replace(",", "")), Equal: m.Groups[4].Value)).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal(4 * r.D * r.D + 4 * r.D, r.Formula));
        Assert.All(rows, r => Assert.Equal(r.Formula, r.Counted));
        Assert.All(rows, r => Assert.Equal("True", r.Equal));
        Assert.Equal(1_050_624, rows.Single(r => r.D == 512).Counted);
        var table = Assert.Single(Lesson.Html, h => h.Contains("<table") && h.Contains("parameters (d = 512)"));
        Assert.Equal(6, Regex.Matches(table, ">1050624<").Count);
    }

    [LessonFact]
    public void Batched_heads_equal_h_independent_heads()
    {
        Assert.True(Lesson.Number(@"max \|4 separate heads, concatenated − batched\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"max \|sum of per-head terms head_i W\^O_i \+ b − batched\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"max \|library ForwardHeadByHead − batched\| = " + Num) < 1e-5);
        // Cell [13]'s verdict and cell [17]'s: both comparisons print it.
        Assert.Equal(2, Regex.Matches(Lesson.Printed, @"all within tolerance 1E-005: True").Count);
    }

    [LessonFact]
    public void Matches_TorchSharps_MultiheadAttention_to_1e5()
    {
        foreach (var what in new[] { "output", "head-averaged weights", "causal mask", @"key padding mask \(theirs given the inverted mask\)", "gradient at the input" })
            Assert.True(Lesson.Number($@"max \|ours − nn.MultiheadAttention\|, {what} = " + Num) < 1e-5, what);
        Assert.Contains("all within tolerance 1E-005: True", Lesson.Printed);
        Assert.Contains("in_proj_weight [48, 16]", Lesson.Printed);
        // Prose [15]: TorchSharp 0.107 adds a boolean attn_mask to the scores as 0/1, so it masks nothing.
        Assert.True(Lesson.Number(@"boolean attn_mask \(true = blocked\): max \|output − causal output\| = " + Num) > 1e-2);
        Assert.Contains("acts as a causal mask: False", Lesson.Printed);
        Assert.True(Lesson.Number(@"boolean attn_mask: max \|output − output with the float 0/1 mask added\| = " + Num) < 1e-5);
        Assert.Contains("added as 0 and 1: True", Lesson.Printed);
    }

    [LessonFact]
    public void One_head_fails_a_lookup_that_three_heads_of_the_same_size_solve()
    {
        var rows = Regex.Matches(Lesson.Printed, @"h = (\d): ([\d,]+) parameters; held-out accuracy: left ([\d.]+), right ([\d.]+), largest ([\d.]+)")
            .ToDictionary(m => int.Parse(m.Groups[1].Value),
                m => (Params: m.Groups[2].Value, Acc: new[] { Parse(m.Groups[3].Value), Parse(m.Groups[4].Value), Parse(m.Groups[5].Value) }));
        Assert.Equal([1, 2, 3, 4], rows.Keys.Order());
        Assert.Single(rows.Values.Select(r => r.Params).Distinct());
        Assert.True(rows[1].Acc.Min() < 0.5, $"one head: {string.Join(", ", rows[1].Acc)}");
        Assert.True(rows[1].Acc[1] < 0.5, "the single head should miss the right neighbour");
        Assert.True(rows[1].Acc[0] >= 0.8 && rows[1].Acc[2] >= 0.9, "the single head finds the left neighbour and the largest letter");
        Assert.All(rows[2].Acc, a => Assert.True(a >= 0.95, $"two heads: {string.Join(", ", rows[2].Acc)}"));
        Assert.All(rows[3].Acc, a => Assert.True(a >= 0.95, $"three heads: {string.Join(", ", rows[3].Acc)}"));
        Assert.All(rows[4].Acc, a => Assert.True(a >= 0.95, $"four heads: {string.Join(", ", rows[4].Acc)}"));
        Assert.True(Lesson.FigureCount("bar") >= 2);
        // Against the computed baseline, not just 1/16: always answering the top letter.
        double alwaysTop = Lesson.Number(@"always answering the top letter 'p' scores 1 − \(15/16\)\^8 = ([\d.]+)");
        Assert.InRange(alwaysTop, 0.39, 0.41);
        Assert.True(rows[1].Acc[2] > alwaysTop + 0.2, $"one head on largest {rows[1].Acc[2]} vs baseline {alwaysTop}");
        // The prose: the single head's split is uneven, heavier on the left neighbour it keeps.
        var single = Regex.Match(Lesson.Printed, @"h = 1, head 0: left ([\d.]+), right ([\d.]+)");
        Assert.True(Parse(single.Groups[1].Value) > Parse(single.Groups[2].Value) + 0.03, single.Value);
        Assert.True(rows[1].Acc[0] > rows[1].Acc[1] + 0.3);
        Assert.Contains(Lesson.Html, h => h.Contains("number of heads h"));
        Assert.Contains(Lesson.Html, h => h.Contains("head switched off"));
    }

    [LessonFact]
    public void The_three_heads_attend_differently_as_heatmaps_entropies_and_ablations_show()
    {
        var grid = Assert.Single(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("per head on one held-out sequence"));
        Assert.Equal(4, Regex.Matches(grid, "Plotly.newPlot").Count);
        Assert.Equal(3, Lesson.Number(@"distinct lookups covered by the 3 heads: (\d)"));
        var heads = Regex.Matches(Lesson.Printed, @"h = 3, head (\d): left ([\d.]+), right ([\d.]+), largest ([\d.]+), entropy ([\d.]+) nats")
            .Select(m => (Left: Parse(m.Groups[2].Value), Right: Parse(m.Groups[3].Value), Largest: Parse(m.Groups[4].Value), Entropy: Parse(m.Groups[5].Value)))
            .ToList();
        Assert.Equal(3, heads.Count);
        Assert.All(heads, h => Assert.True(new[] { h.Left, h.Right, h.Largest }.Max() >= 0.8 && h.Entropy < 0.5, h.ToString()));
        double single = Lesson.Number(@"h = 1, head 0: left [\d.]+, right [\d.]+, largest [\d.]+, entropy ([\d.]+) nats");
        Assert.True(single > 1.0, $"the single head's entropy {single}");

        // On the heatmap's sequence: one head per lookup takes the top weight in every row; the single head is spread out.
        var onProbe = Regex.Matches(Lesson.Printed, @"h = 3, head (\d): top key is the left neighbour in (\d) of 8 rows, the right neighbour in (\d), a largest letter in (\d)")
            .Select(m => new[] { int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value), int.Parse(m.Groups[4].Value) }).ToList();
        Assert.Equal(3, onProbe.Count);
        Assert.Equal(3, Enumerable.Range(0, 3).Select(job => onProbe.FindIndex(r => r[job] == 8)).Where(i => i >= 0).Distinct().Count());
        double topOne = Lesson.Number(@"largest weight in a row: h = 1 head, mean ([\d.]+)");
        double topThree = Lesson.Number(@"h = 3 heads, mean ([\d.]+)");
        Assert.True(topOne < 0.75 && topThree > 0.9, $"mean top weight: one head {topOne}, three heads {topThree}");

        // The neighbour heads' weight on "largest" is about how often a neighbour holds the largest letter.
        double share = Lesson.Number(@"share of positions that hold the largest letter: ([\d.]+)");
        var neighbourHeads = heads.Where(h => Math.Max(h.Left, h.Right) >= 0.8).ToList();
        Assert.Equal(2, neighbourHeads.Count);
        Assert.All(neighbourHeads, h => Assert.InRange(h.Largest, share - 0.05, share + 0.05));
        // Two heads: one takes the left neighbour, the other spreads over the right neighbour and the largest letter.
        var two = Regex.Matches(Lesson.Printed, @"h = 2, head (\d): left ([\d.]+), right ([\d.]+), largest ([\d.]+)")
            .Select(m => (Left: Parse(m.Groups[2].Value), Right: Parse(m.Groups[3].Value), Largest: Parse(m.Groups[4].Value))).ToList();
        Assert.Equal(2, two.Count);
        Assert.Contains(two, h => h.Left >= 0.7);
        Assert.Contains(two, h => h.Left < 0.1 && h.Right >= 0.3 && h.Largest >= 0.3);

        // Removing a head breaks the lookup it was seen doing and leaves the other two.
        var ablations = Regex.Matches(Lesson.Printed, @"removed head (\d): left ([\d.]+), right ([\d.]+), largest ([\d.]+)")
            .Select(m => new[] { Parse(m.Groups[2].Value), Parse(m.Groups[3].Value), Parse(m.Groups[4].Value) }).ToList();
        Assert.Equal(3, ablations.Count);
        var broken = ablations.Select(a => Array.IndexOf(a, a.Min())).ToList();
        Assert.Equal(3, broken.Distinct().Count());
        Assert.All(ablations, a => Assert.True(a.Min() < 0.5 && a.OrderBy(v => v).Skip(1).All(v => v >= 0.9), string.Join(", ", a)));
        // Prose [38]: the lost lookup falls most of the way from its trained accuracy to its baseline, or below it.
        var lost = Regex.Matches(Lesson.Printed, @"removed head \d: .*→ (left neighbour|right neighbour|largest token) ([\d.]+), baseline \(([^)]+)\) ([\d.]+)").ToList();
        Assert.Equal(3, lost.Count);
        var trained = Regex.Match(Lesson.Printed, @"removed none  : left ([\d.]+), right ([\d.]+), largest ([\d.]+)");
        foreach (var m in lost)
        {
            int lookup = Array.IndexOf(new[] { "left neighbour", "right neighbour", "largest token" }, m.Groups[1].Value);
            double before = Parse(trained.Groups[lookup + 1].Value), after = Parse(m.Groups[2].Value), baseline = Parse(m.Groups[4].Value);
            Assert.Equal(lookup == 2 ? "always 'p'" : "guessing", m.Groups[3].Value);
            Assert.InRange(baseline, lookup == 2 ? 0.39 : 0.062, lookup == 2 ? 0.41 : 0.063);
            Assert.True(after <= baseline + 0.2 * (before - baseline), m.Value);
        }
        Assert.Matches(@"after the ablations the weights are restored: accuracy ([\d.]+) \(before: \1\)", Lesson.Printed);
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your HeadWeightsFromPacked.*PASS: your HeadWeightsFromPacked.*NOT YET: your CrossAttention.*PASS: your CrossAttention", Lesson.Printed);
    }
}

/// <summary>The same facts about the lesson, asserted on the copy real Jupyter executed (kernel .net-csharp).</summary>
[InJupyter]
public class Lesson06InJupyter : Lesson06Tests
{
    protected override ExecutedNotebook Lesson => ExecutedNotebook.RunInJupyter("02-transformer-architecture/06-multi-head-attention.ipynb");
}
