using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Notebook;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 5 — Attention in Action.</summary>
public class Lesson05Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("01-attention-mechanism/05-attention-in-action.ipynb");

    [Fact]
    public void Runs_cleanly_top_to_bottom() => Lesson.AssertRanCleanly();

    [Fact]
    public void The_untrained_model_starts_near_ln_V()
    {
        var initial = Lesson.Number(@"loss before training = " + Num);
        var lnV = Lesson.Number(@"ln V = ln 10 = " + Num);
        Assert.Equal(Math.Log(10), lnV, 3);
        Assert.InRange(initial, lnV - 0.2, lnV + 0.2);
    }

    [Fact]
    public void The_alignment_forms_during_training_and_is_shown_as_snapshots()
    {
        Assert.True(Lesson.Number(@"alignment score: step 0 = " + Num) < 0.3);
        Assert.True(Lesson.Number(@"alignment score: step 0 = [\d.]+ \(uniform would be [\d.]+\), step \d+ = " + Num) >= 0.9);
        var grid = Assert.Single(Lesson.Html, h => h.Contains("during training") && h.Contains("data-kind=\"heatmap\""));
        Assert.Equal(7, Regex.Matches(grid, "Plotly.newPlot").Count);   // step 0, five snapshots, the end
        Assert.True(Lesson.FigureCount("line") >= 3, $"only {Lesson.FigureCount("line")} line charts");
    }

    [Fact]
    public void Held_out_exact_match_is_high_and_matches_the_hand_computation()
    {
        Assert.True(Lesson.Number(@"attention model exact match \(L = 8, held-out\) = " + Num) >= 0.9);
        Assert.Equal(0, Lesson.Number(@"max \|target − source reversed\| = (\d+)"));
        Assert.True(Lesson.Number(@"\|exact match by hand − library\| = " + Num) <= 1e-12);
        Assert.True(Lesson.Number(@"max \|mean learned weights − A\*\| = " + Num) <= 0.05);
    }

    [Fact]
    public void Attention_beats_the_LSTM_at_long_lengths_with_the_same_budget()
    {
        var rows = Regex.Matches(Lesson.Printed, @"L = +(\d+): attention exact match = ([\d.]+), LSTM exact match = ([\d.]+)")
            .Select(m => (L: int.Parse(m.Groups[1].Value), Attention: Parse(m.Groups[2].Value), Lstm: Parse(m.Groups[3].Value)))
            .ToList();
        Assert.True(rows.Count >= 4, $"only {rows.Count} lengths were reported");
        Assert.All(rows, r => Assert.True(r.Attention >= 0.9, $"attention exact match {r.Attention} at L = {r.L}"));
        var (shortest, longest) = (rows.MinBy(r => r.L), rows.MaxBy(r => r.L));
        Assert.True(shortest.Lstm >= 0.9, $"the LSTM should manage the shortest length but got {shortest.Lstm}");
        Assert.True(longest.Lstm <= 0.5 && longest.Lstm < longest.Attention - 0.4,
            $"at L = {longest.L} the LSTM got {longest.Lstm} and attention {longest.Attention}");
    }

    [Fact]
    public void Position_accuracy_falls_with_distance_for_the_LSTM_only()
    {
        var nearest = Lesson.Number(@"LSTM token accuracy at distance 1 = " + Num);
        var mean = Lesson.Number(@"LSTM mean token accuracy = " + Num);
        Assert.True(nearest > mean + 0.1, $"distance 1: {nearest}, mean over positions: {mean}");
        Assert.True(Lesson.Number(@"attention token accuracy, lowest over all positions = " + Num) >= 0.9);
    }

    [Fact]
    public void A_fixed_query_cannot_do_key_value_retrieval()
    {
        var attention = Lesson.Number(@"fixed-query attention exact match = " + Num);
        var chance = Lesson.Number(@"guessing one of the 8 values = " + Num);
        Assert.InRange(attention, chance, 0.8);
    }

    [Fact]
    public void Exercises_fail_on_the_placeholders_and_pass_with_the_solutions()
    {
        Assert.Equal(2, Lesson.Count(Check.FailMark));
        Assert.Equal(2, Lesson.Count(Check.PassMark));
        Assert.Contains($"{Check.FailMark}: your predicted alignment", Lesson.Printed);
        Assert.Contains($"{Check.PassMark}: your predicted alignment", Lesson.Printed);
        Assert.Contains($"{Check.FailMark}: your TokenAccuracy", Lesson.Printed);
        Assert.Contains($"{Check.PassMark}: your TokenAccuracy", Lesson.Printed);
    }

    static double Parse(string text) => double.Parse(text, CultureInfo.InvariantCulture);
}
