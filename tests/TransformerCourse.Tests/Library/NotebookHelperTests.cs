using TransformerCourse.Exercises;
using TorchSharp;
using TransformerCourse.Notebook;
using TransformerCourse.Plots;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class NotebookHelperTests : TorchTest
{
    [Fact]
    public void Heatmaps_carry_tokens_weights_and_plotly_once()
    {
        Figure.ResetPlotlyLoader();
        var w = tensor(new float[] { 0.9f, 0.1f, 0.25f, 0.75f }).reshape(2, 2);
        var first = Charts.Heatmap(w, ["the", "cat"], ["the", "mat"], "demo").ToHtml();
        var second = Charts.Heatmap(w, ["the", "cat"], ["the", "mat"]).ToHtml();
        Assert.Contains("\"type\":\"heatmap\"", first);
        Assert.Contains("query 1: mat<br>key 0: the<br>weight 0.250", first);
        Assert.True(Figure.HasOfflinePlotly, "plotly.js should be embedded (npm ci at build time)");
        Assert.Contains("plotly.js v2", first);
        Assert.DoesNotContain("plotly.js v2", second);
        var e = Assert.Throws<ArgumentException>(() => Charts.Heatmap(w, ["a", "b", "c"], ["x", "y"]));
        Assert.Contains("2×2", e.Message);
    }

    [Fact]
    public void Small_grid_panels_are_bare_thumbnails_and_large_ones_keep_their_tokens()
    {
        var w = tensor(new float[] { 0.9f, 0.1f, 0.25f, 0.75f }).reshape(2, 2);
        _ = Charts.Heatmap(w, ["the", "cat"], ["the", "mat"]).ToHtml();   // the first figure carries plotly.js itself
        var small = Charts.HeatmapGrid([("a", w), ("b", w)], ["the", "cat"], ["the", "mat"], "grid", panelSize: Charts.CompactPanel - 1).ToHtml();
        var large = Charts.HeatmapGrid([("a", w), ("b", w)], ["the", "cat"], ["the", "mat"], "grid", panelSize: Charts.CompactPanel).ToHtml();
        Assert.DoesNotContain("ticktext", small);
        Assert.Contains("\"showscale\":false", small);
        Assert.Contains("query 1: mat<br>key 0: the", small);       // the hover text still names both tokens
        Assert.Contains("ticktext", large);
        Assert.DoesNotContain("\"showscale\":false", large);
    }

    [Fact]
    public void A_grid_can_name_its_rows_thin_its_row_labels_and_share_one_colour_bar()
    {
        var w = rand(8, 2);
        _ = Charts.Heatmap(w, ["a", "b"], Enumerable.Range(0, 8).Select(i => $"r{i}").ToList()).ToHtml();
        var rows = Enumerable.Range(0, 8).Select(i => $"w{i}").ToList();
        var html = Charts.HeatmapGrid([("a", w), ("b", w), ("c", w)], ["0", "1"], rows, "grid", panelSize: 300, xTitle: "expert", yTitle: "steps",
            rowName: "training steps", columnName: "expert", rowTickEvery: 4, oneColourBar: true, hoverIndex: false).ToHtml();
        Assert.Contains("training steps: w5<br>expert: 1", html);
        Assert.DoesNotContain("query 0", html);
        Assert.Equal(2, html.Split("\"showscale\":false").Length - 1);            // the colour bar on the last panel only
        Assert.Contains("\"ticktext\":[\"w3\",\"w7\"]", html);                   // every 4th row label, the last one included
        Assert.Throws<ArgumentException>(() => Charts.HeatmapGrid([("a", w)], ["0", "1"], rows, "grid", rowTickEvery: 0));
    }

    [Fact]
    public void Charts_heatmap_grid_can_lower_the_colour_floor_for_negative_values()
    {
        var logs = tensor(new float[] { -8f, -0.5f, 0.25f, 1f }).reshape(2, 2);
        _ = Charts.Heatmap(logs, ["a", "b"], ["c", "d"]).ToHtml();   // the first figure carries plotly.js itself
        var standard = Charts.HeatmapGrid([("p", logs)], ["a", "b"], ["c", "d"], "grid").ToHtml();
        var floored = Charts.HeatmapGrid([("p", logs)], ["a", "b"], ["c", "d"], "grid", zmin: -8, rowName: "perturbed token", columnName: "output position").ToHtml();
        Assert.Matches("\"zmin\":0(\\.0)?[,}]", standard);                // default: weights start at 0, so -0.5 looks like -8
        Assert.Matches("\"zmin\":-8(\\.0)?[,}]", floored);
        Assert.DoesNotMatch("\"zmin\":0(\\.0)?[,}]", floored);
        Assert.Matches("\"zmax\":1(\\.0)?[,}]", floored);
        Assert.Contains("perturbed token 1: d<br>output position 0: a<br>weight 0.250", floored);
    }

    [Fact]
    public void Line_and_bar_charts_hold_their_series()
    {
        var line = Charts.Lines("t", "x", "y", [new Series("rnn", [1, 2], [3, 4])], logY: true).ToHtml();
        Assert.Contains("\"name\":\"rnn\"", line);
        Assert.Contains("\"type\":\"log\"", line);
        Assert.Throws<ArgumentException>(() => Charts.Bars("t", "y", ["a", "b"], [("s", new double[] { 1 })]));
    }

    [Fact]
    public void An_exercise_check_prints_one_verdict_line_and_turns_exceptions_into_diagnoses()
    {
        var writer = new StringWriter();
        var old = Console.Out;
        Console.SetOut(writer);
        Verdict pass, wrong, placeholder, crash, forbidden;
        try
        {
            pass = Exercise.Check("your answer", "hint A", () => Exercise.ExpectClose(1.0001, 1.0, 1e-3, "too far"));
            wrong = Exercise.Check("your answer", "hint B", () => Exercise.ExpectClose(1.5, 1.0, 1e-3, "it is 0.5 too large"));
            placeholder = Exercise.Check("your answer", "hint C", () => throw new NotImplementedException());
            crash = Exercise.Check("your answer", "hint D", () => ExpectShape(ones(2, 2), [2, 3]));
            forbidden = Exercise.Check("your answer", "hint E", () => Exercise.Forbidding(["Demo.Routine"], () => { RebuiltRoutines.Enter("Demo.Routine"); return 0; }));
        }
        finally
        {
            Console.SetOut(old);
        }
        Assert.True(pass.Passed);
        Assert.All(new[] { wrong, placeholder, crash, forbidden }, v => Assert.False(v.Passed));
        Assert.Contains("it is 0.5 too large", wrong.Feedback);
        Assert.Contains("Hint: hint B", wrong.Feedback);
        Assert.Contains("placeholder", placeholder.Feedback);
        Assert.Contains("[2, 2]", crash.Feedback);
        Assert.Contains("Demo.Routine", forbidden.Feedback);
        RebuiltRoutines.Enter("Demo.Routine"); // outside a check it does nothing
        var text = writer.ToString();
        Assert.Equal(1, text.Split(Exercise.PassMark).Length - 1);
        Assert.Equal(4, text.Split(Exercise.FailMark).Length - 1);

        static void ExpectShape(TorchSharp.torch.Tensor t, long[] shape) => Exercise.ExpectShape(t, shape, "the tensor");
    }

    [Fact]
    public void The_course_map_has_28_lessons_in_six_sections()
    {
        Assert.Equal(28, CourseMap.Lessons.Count);
        Assert.Equal(Enumerable.Range(1, 28), CourseMap.Lessons.Select(l => l.Number));
        Assert.Equal([5, 6, 4, 6, 4, 3], CourseMap.Lessons.GroupBy(l => l.Section).Select(g => g.Count()));
        Assert.Equal("../02-transformer-architecture/06-multi-head-attention.ipynb", CourseMap.LinkFrom(CourseMap.Get(5), CourseMap.Get(6)));
        Assert.Throws<ArgumentOutOfRangeException>(() => CourseMap.Get(29));
    }

    [Fact]
    public void Timing_returns_a_median()
    {
        int calls = 0;
        var ms = Timing.MedianMilliseconds(() => calls++, repeats: 3);
        Assert.Equal(4, calls);
        Assert.True(ms >= 0);
    }
}
