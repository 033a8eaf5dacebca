using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 4 — Masking.</summary>
public class Lesson04Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?|NaN)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("01-attention-mechanism/04-masking.ipynb");

    [Fact]
    public void Runs_cleanly_top_to_bottom() => Lesson.AssertRanCleanly();

    [Fact]
    public void Masking_before_the_softmax_keeps_the_weights_summing_to_one()
    {
        Assert.Equal(1.0, Lesson.Number(@"mask before softmax: weights \[[^\]]*\], sum = " + Num), 3);
        Assert.True(Lesson.Number(@"zero after softmax: +weights \[[^\]]*\], sum = " + Num) < 0.9);
    }

    [Fact]
    public void Padding_masks_agree_and_remove_all_weight_on_pads()
    {
        Assert.Contains("same mask from lengths and from pad ids: True", Lesson.Printed);
        // Mean pad weight per real query, against the uniform baseline (3·2/5 + 2·3/5 + 0) / 10 = 0.24.
        Assert.InRange(Lesson.Number(@"pad keys: no mask = " + Num), 0.05, 1.0);
        Assert.Equal(0.24, Lesson.Number(@"uniform attention would give " + Num), 3);
        Assert.Equal(0.0, Lesson.Number(@"pad keys: padding mask = " + Num));
        Assert.Contains("exactly zero: True", Lesson.Printed);
        Assert.Contains("weight each <pad> query gives to the real words = [1.000, 1.000]", Lesson.Printed);
        Assert.Equal(0.0, Lesson.Number(@"total weight above the diagonal \(the future\) = " + Num));
        Assert.Contains("the first query's weight on itself = 1.000; row sums = [1.000, 1.000, 1.000, 1.000, 1.000]", Lesson.Printed);
        Assert.Contains("combined mask shape: [3, 5, 5]", Lesson.Printed);
        Assert.Contains("non-zero weights per row = [1, 2, 3, 4, 5]", Lesson.Printed);
        Assert.Contains("weights are non-zero exactly where padding ∧ causal is true (all 3 sentences): True", Lesson.Printed);
    }

    [Fact]
    public void Boolean_and_additive_masks_agree_with_each_other_and_the_built_in_kernel()
    {
        Assert.Equal(0.0, Lesson.Number(@"max \|boolean − additive\| difference in weights = " + Num));
        var diffs = Regex.Matches(Lesson.Printed, @"max \|ours − built-in\|[^=]*= " + Num);
        Assert.Equal(6, diffs.Count);
        Assert.All(diffs, m => Assert.InRange(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0, 1e-5));
        Assert.Contains("all within 1E-005: True", Lesson.Printed);
    }

    [Fact]
    public void The_naive_softmax_gives_NaN_and_the_fix_gives_zeros()
    {
        Assert.Equal(2, Lesson.Number(@"rows with no visible key: (\d+) of 5"));
        Assert.True(Lesson.Number(@"naive softmax: (\d+) NaN weights") > 0);
        Assert.True(double.IsNaN(Lesson.Number(@"naive loss after zeroing the pad rows = " + Num)));
        Assert.True(Lesson.Number(@"naive gradients: (\d+) of \d+ entries") > 0);
        Assert.True(Lesson.Number(@"zeroing after the softmax only, additive mask: 0 NaN weights, (\d+) of") > 0);
        // With masked_fill, its backward zeroes the filled entries' gradient, so the late fix alone survives (prose [21]).
        Assert.Contains("zeroing after the softmax only, boolean mask with masked_fill: 0 NaN weights, 0 of 120 gradient entries NaN", Lesson.Printed);
        foreach (var kind in new[] { "boolean", "additive" })
        {
            Assert.Equal(0, Lesson.Number($@"library fix, {kind} mask: (\d+) NaN weights"));
            Assert.Equal(0, Lesson.Number($@"library fix, {kind} mask: 0 NaN weights, (\d+) of \d+ gradient entries NaN"));
            Assert.Contains($"library fix, {kind} mask: 0 NaN weights, 0 of 120 gradient entries NaN, row sums [0.000, 0.000, 1.000, 1.000, 1.000]", Lesson.Printed);
        }
        // The −1e9 shortcut: uniform over ALL keys, so the future real tokens get weight too.
        Assert.Contains("the first row's weights are [0.200, 0.200, 0.200, 0.200, 0.200]", Lesson.Printed);
        Assert.Contains("uniform over all 5 keys: True", Lesson.Printed);
        Assert.Equal(0.4, Lesson.Number(@"weight on pads = " + Num), 3);
        Assert.Equal(0.6, Lesson.Number(@"on future real tokens the causal mask should hide = " + Num), 3);
        // …but the real queries' rows are the same as with −∞, which is why the shortcut is harmless here.
        Assert.InRange(Lesson.Number(@"rows of the real queries: max \|−1e9 version − library\| = " + Num), 0, 1e-6);
        Assert.Matches(@"rows of the real queries: max \|−1e9 version − library\| = \S+; ≤ 1e-6: True", Lesson.Printed);
    }

    [Fact]
    public void Causal_attention_never_reads_the_future()
    {
        Assert.Equal(0.0, Lesson.Number(@"causal mask: max change in earlier outputs = " + Num));
        Assert.True(Lesson.Number(@"causal mask: max change at and after the perturbed token = " + Num) > 1e-3);
        Assert.True(Lesson.Number(@"no mask: +max change in earlier outputs = " + Num) > 1e-3);
        // Prose [33]: every change that is not exactly zero lies orders of magnitude above the colour floor 10⁻⁸.
        Assert.True(Lesson.Number(@"causal mask: smallest change at and after the perturbed token = " + Num) > 1e-4);
        Assert.True(Lesson.Number(@"no mask: +smallest change of any output for any perturbed token = " + Num) > 1e-4);
        // The log heatmap draws exact zeros at −8, the floor of its colour scale, not at 0 with every change below 1.
        var logChart = Assert.Single(Lesson.Html, h => h.Contains("log10 of how far each output moves"));
        Assert.Matches("\"zmin\":-8(\\.0)?[,}]", logChart);
        Assert.DoesNotMatch("\"zmin\":0(\\.0)?[,}]", logChart);
        Assert.Contains("perturbed token: x3<br>output position: x0<br>log10 change -8.000", logChart);
    }

    [Fact]
    public void Shows_heatmaps_with_tokens_on_the_axes()
    {
        Assert.True(Lesson.FigureCount("heatmap") >= 6, $"only {Lesson.FigureCount("heatmap")} heatmaps");
        Assert.Contains(Lesson.Html, h => h.Contains("\"ticktext\":[\"the\",\"cat\",\"sat\",\"<pad>\",\"<pad>\"]"));
        Assert.Contains(Lesson.Html, h => h.Contains("\"ticktext\":[\"<pad>\",\"<pad>\",\"the\",\"cat\",\"sat\"]"));
    }

    [Fact]
    public void Notebook_cells_carry_no_nullable_annotations()
    {
        // Real Jupyter reports CS8632 for `Tensor?` outside a #nullable context.
        var code = Lesson.Cells.Where(c => (string?)c["cell_type"] == "code")
            .Select(c => string.Concat(c["source"]!.AsArray().Select(l => (string?)l)));
        Assert.All(code, c => Assert.DoesNotMatch(@"\b(Tensor|string|int|double|long|float|bool)\?\s", c));
        Assert.DoesNotContain("CS8632", Lesson.Printed);
    }

    [Fact]
    public void Exercises_fail_on_the_placeholders_and_pass_with_the_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Contains($"{Exercise.FailMark}: your SlidingWindowMask", Lesson.Printed);
        Assert.Contains($"{Exercise.PassMark}: your SlidingWindowMask", Lesson.Printed);
        Assert.Contains($"{Exercise.FailMark}: your SafeSoftmax", Lesson.Printed);
        Assert.Contains($"{Exercise.PassMark}: your SafeSoftmax", Lesson.Printed);
    }
}
