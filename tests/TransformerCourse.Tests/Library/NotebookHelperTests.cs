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
    public void Line_and_bar_charts_hold_their_series()
    {
        var line = Charts.Lines("t", "x", "y", [new Series("rnn", [1, 2], [3, 4])], logY: true).ToHtml();
        Assert.Contains("\"name\":\"rnn\"", line);
        Assert.Contains("\"type\":\"log\"", line);
        Assert.Throws<ArgumentException>(() => Charts.Bars("t", "y", ["a", "b"], [("s", new double[] { 1 })]));
    }

    [Fact]
    public void Checks_print_pass_or_a_hint_without_the_answer()
    {
        var writer = new StringWriter();
        var old = Console.Out;
        Console.SetOut(writer);
        try
        {
            Assert.True(Check.Close(1.0001, 1.0, 1e-3, "hint A"));
            Assert.False(Check.Close(1.5, 1.0, 1e-3, "hint B"));
            Assert.False(Check.Close(ones(2, 2), ones(2, 3), 1e-3, "hint C"));
            Assert.False(Check.Close(null, ones(2), 1e-3, "hint D"));
            Assert.True(Check.Equal(3, 3, "hint E"));
        }
        finally
        {
            Console.SetOut(old);
        }
        var text = writer.ToString();
        Assert.Equal(2, text.Split(Check.PassMark).Length - 1);
        Assert.Equal(3, text.Split(Check.FailMark).Length - 1);
        Assert.Contains("hint B", text);
        Assert.DoesNotContain("1.0 ", text);
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
