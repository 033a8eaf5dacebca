using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 5 — Attention in Action. Each test asserts a claim the lesson's prose makes about an output.</summary>
public class Lesson05Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("01-attention-mechanism/05-attention-in-action.ipynb");

    [Fact]
    public void Runs_cleanly_top_to_bottom()
    {
        Lesson.AssertRanCleanly();
        // No compiler diagnostic of any level reaches the learner (an info CS9236 once did, from a nested lambda).
        Assert.DoesNotMatch(@"\b(info|warning) CS\d{4}\b", Lesson.Printed.Replace("warning CS1701", ""));
    }

    [Fact]
    public void Notebook_cells_carry_no_nullable_annotations()
    {
        var code = Lesson.Cells.Where(c => (string?)c["cell_type"] == "code")
            .Select(c => string.Concat(c["source"]!.AsArray().Select(l => (string?)l)));
        Assert.All(code, c => Assert.DoesNotMatch(@"\b(Tensor|string|int|double|long|float|bool)\?\s", c));
    }

    [Fact]
    public void The_untrained_model_starts_near_ln_V()
    {
        var initial = Lesson.Number(@"loss before training = " + Num);
        var lnV = Lesson.Number(@"ln V = ln 10 = " + Num);
        Assert.Equal(Math.Log(10), lnV, 3);
        Assert.InRange(initial, lnV - 0.2, lnV + 0.2);
    }

    [Fact]
    public void The_alignment_forms_within_about_ten_steps_and_is_shown_as_snapshots()
    {
        Assert.True(Lesson.Number(@"alignment score: step 0 = " + Num) < 0.3);
        Assert.True(Lesson.Number(@"alignment score: step 0 = [\d.]+ \(uniform would be [\d.]+\), step \d+ = " + Num) >= 0.9);
        var first = Lesson.Number(@"first step with alignment score above 0.5 = (\d+)");
        Assert.InRange(first, 5, 20);   // "within about ten steps"
        Assert.True(Lesson.Number(@"every output's largest weight is at least " + Num) >= 0.9);   // "almost all of its weight on one position"
        Assert.True(Lesson.Number(@"largest weight in the step-0 snapshot = " + Num) < 0.5);   // "looks pale"
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
    public void Attention_stays_at_the_top_while_the_LSTM_falls_despite_more_parameters()
    {
        var rows = Regex.Matches(Lesson.Printed, @"L = +(\d+): attention exact match = ([\d.]+), LSTM exact match = ([\d.]+) \(parameters: attention ([\d,]+), LSTM ([\d,]+)\)")
            .Select(m => (L: int.Parse(m.Groups[1].Value), Attention: Parse(m.Groups[2].Value), Lstm: Parse(m.Groups[3].Value),
                AttentionParams: long.Parse(m.Groups[4].Value.Replace(",", "")), LstmParams: long.Parse(m.Groups[5].Value.Replace(",", ""))))
            .ToList();
        Assert.True(rows.Count >= 4, $"only {rows.Count} lengths were reported");
        Assert.All(rows, r => Assert.True(r.Attention >= 0.95, $"attention exact match {r.Attention} at L = {r.L}"));
        Assert.All(rows, r => Assert.True(r.LstmParams >= 5 * r.AttentionParams, $"LSTM {r.LstmParams} vs attention {r.AttentionParams} parameters"));
        var (shortest, longest) = (rows.MinBy(r => r.L), rows.MaxBy(r => r.L));
        Assert.True(shortest.Lstm >= 0.9, $"the LSTM should manage the shortest length but got {shortest.Lstm}");
        Assert.True(longest.Lstm <= 0.5 && longest.Lstm < longest.Attention - 0.4,
            $"at L = {longest.L} the LSTM got {longest.Lstm} and attention {longest.Attention}");
    }

    [Fact]
    public void Position_accuracy_falls_with_distance_for_the_LSTM_only()
    {
        Assert.True(Lesson.Number(@"LSTM token accuracy at distance 1 = " + Num) >= 0.95);   // "perfect or nearly so"
        var nearest = Lesson.Number(@"over the 5 nearest positions = " + Num);
        var farthest = Lesson.Number(@"over the 5 farthest = " + Num);
        Assert.True(nearest >= 0.9 && nearest > farthest + 0.1, $"nearest {nearest}, farthest {farthest}");
        var lowest = Lesson.Number(@"lowest = " + Num + " at distance");
        var lowestAt = Lesson.Number(@"lowest = [\d.]+ at distance " + Num);
        var farthestDistance = Lesson.Number(@"the farthest \(distance " + Num);
        var atFarthest = Lesson.Number(@"the farthest \(distance \d+\) = " + Num);
        Assert.True(lowestAt < farthestDistance && atFarthest > lowest, "the prose says the lowest point is not the farthest one");
        // "it gets about a quarter of them wrong": (1 − mean token accuracy) × L, and the share.
        var meanAccuracy = Lesson.Number(@"LSTM mean token accuracy = " + Num);
        var wrong = Lesson.Number(@"LSTM wrong tokens per sequence, on average = \(1 − [\d.]+\) × 20 = " + Num);
        Assert.Equal((1 - meanAccuracy) * 20, wrong, 0.1);
        Assert.InRange(wrong / 20, 0.18, 0.35);
        var above = Regex.Match(Lesson.Printed, @"LSTM positions above twice chance = (\d+) of (\d+)");
        Assert.Equal(above.Groups[2].Value, above.Groups[1].Value);   // "above twice chance at every position"
        Assert.True(Lesson.Number(@"attention token accuracy, lowest over all positions = " + Num) >= 0.9);
    }

    [Fact]
    public void Retrieval_models_with_content_free_queries_sit_at_the_most_frequent_value_baseline()
    {
        var chance = Lesson.Number(@"chance \(guess one of the 8 values\) += " + Num);
        var baseline = Lesson.Number(@"content-free baseline \(most frequent value in the context\) = " + Num);
        Assert.Equal(0.125, chance, 3);
        Assert.InRange(baseline, 0.35, 0.47);
        // "repeats are common" and the exact expectation E[largest count] / 4 over all 8^4 draws.
        Assert.Equal(1 - 8.0 * 7 * 6 * 5 / 4096, Lesson.Number(@"share of dictionaries with a repeated value \(exact\) = " + Num), 3);
        var analytic = Lesson.Number(@"expected over all draws = " + Num);
        Assert.InRange(analytic, 0.40, 0.42);
        Assert.InRange(baseline, analytic - 0.05, analytic + 0.05);
        foreach (var name in new[] { "fixed-query attention", "LSTM" })
        {
            var score = Lesson.Number($@"  {name} exact match +=  ?" + Num);
            Assert.InRange(score, baseline - 0.05, baseline + 0.05);
            var agrees = Lesson.Number($@"  {name} exact match += [\d.]+; it answers the most frequent value on (\d+)%");
            Assert.True(agrees >= 80, $"{name} answers the most frequent value on only {agrees}% (prose: 'the large majority')");
        }
        Assert.Contains("both models within 0.05 of the content-free baseline: True", Lesson.Printed);
    }

    [Fact]
    public void A_query_from_the_question_clears_the_baseline_and_a_learned_slot_does_not()
    {
        var baseline = Lesson.Number(@"content-free baseline \(most frequent value in the context\) = " + Num);
        var question = Lesson.Number(@"key–value memory, query from Question: exact match = " + Num);
        var slot = Lesson.Number(@"key–value memory, query from LearnedSlot: exact match = " + Num);
        Assert.True(question >= baseline + 0.3, $"question query {question} vs baseline {baseline}");
        Assert.InRange(slot, baseline - 0.05, baseline + 0.05);
        Assert.Contains("the learned-slot query is within 0.05 of it: True", Lesson.Printed);
        var onMatch = Lesson.Number(@"; weight on the pair whose key matches = query from LearnedSlot: [\d.]+, query from Question: " + Num);
        Assert.True(onMatch >= 0.5, $"the question query puts only {onMatch} on the matching pair");
        Assert.Contains(Lesson.Html, h => h.Contains("Which stored pair the question") && h.Contains("data-kind=\"heatmap\""));
    }

    [Fact]
    public void Exercises_fail_on_the_placeholders_and_pass_with_the_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Contains($"{Exercise.FailMark}: your predicted alignment — PredictedAlignment(8, 3) is still the copy alignment", Lesson.Printed);
        Assert.Contains($"{Exercise.PassMark}: your predicted alignment", Lesson.Printed);
        Assert.Contains($"{Exercise.FailMark}: your LstmCarryDistance — LstmCarryDistance(8, 3) is [1, 3, 5, 7, 9, 11, 13, 15], the reversal's distances", Lesson.Printed);
        Assert.Contains($"{Exercise.PassMark}: your LstmCarryDistance", Lesson.Printed);
        // The solution's comparison: the same mean distance L, a shorter longest carry than reversal's 2L − 1.
        Assert.Contains("L = 8, rotation by 3: [5, 5, 5, 5, 5, 13, 13, 13], mean 8.00, longest 13", Lesson.Printed);
        Assert.Contains("L = 8, reversal:      [1, 3, 5, 7, 9, 11, 13, 15], mean 8.00, longest 15", Lesson.Printed);
    }

    static double Parse(string text) => double.Parse(text, CultureInfo.InvariantCulture);
}
