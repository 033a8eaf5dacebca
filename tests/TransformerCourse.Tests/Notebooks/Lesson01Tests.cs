using TransformerCourse.Notebook;

namespace TransformerCourse.Tests.Notebooks;

public class Lesson01Tests
{
    static ExecutedNotebook Run() => ExecutedNotebook.Run("01-attention-mechanism/01-the-attention-revolution.ipynb");

    [Fact]
    public void Runs_cleanly_and_prints_the_setup_line()
    {
        var nb = Run();
        nb.AssertRanCleanly();
        Assert.Matches(@"Device: (cpu|cuda)", nb.Printed);
    }

    [Fact]
    public void Measures_the_two_rnn_problems()
    {
        var nb = Run();
        // Sequential bottleneck: the RNN loop is slower than one attention product at n = 1024.
        Assert.True(nb.Number(@"n =\s+1024: RNN loop\s+([\d.]+) ms") > nb.Number(@"n =\s+1024: RNN loop\s+[\d.]+ ms\s+attention\s+([\d.]+) ms"));
        // Path length: the RNN's gradient reach collapses, attention's does not.
        Assert.True(nb.Number(@"gradient reach at n = \d+: attention / RNN = ([\d.E+\-]+)") > 1e6);
        Assert.True(nb.FigureCount("line") >= 2);
    }

    [Fact]
    public void The_soft_lookup_matches_the_builtin_and_is_drawn()
    {
        var nb = Run();
        Assert.InRange(nb.Number(@"cat\s+score\s+[\d.]+\s+weight ([\d.]+)"), 0.5, 0.53);
        Assert.True(nb.Number(@"max \|by hand − TorchSharp built-in\| = ([\d.E+\-]+)") < 1e-5);
        Assert.True(nb.FigureCount("heatmap") >= 1);
    }

    [Fact]
    public void Shows_lineage_families_and_the_quadratic_cost()
    {
        var nb = Run();
        Assert.Contains(nb.Html, h => h.Contains("Bahdanau") && h.Contains("<table"));
        Assert.Contains(nb.Html, h => h.Contains("encoder–decoder") && h.Contains("decoder-only"));
        Assert.InRange(nb.Number(@"weight memory grows like n\^([\d.]+)"), 1.99, 2.01);
        Assert.InRange(nb.Number(@"time grows like n\^([\d.]+)"), 1.5, 3.2);
        Assert.Equal(28, nb.Html.Single(h => h.Contains("Sampling, Inspection and Shipping")).Split("<tr>").Length - 2);
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        var nb = Run();
        Assert.Equal(3, nb.Count(Check.FailMark));
        Assert.Equal(3, nb.Count(Check.PassMark));
    }
}
