using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

public class Lesson03Tests
{
    static ExecutedNotebook Run() => ExecutedNotebook.Run("01-attention-mechanism/03-queries-keys-values.ipynb");

    [Fact]
    public void Runs_cleanly_and_prints_the_setup_line()
    {
        var nb = Run();
        nb.AssertRanCleanly();
        Assert.Matches(@"Device: (cpu|cuda)", nb.Printed);
        // No compiler diagnostic of any level reaches the learner (e.g. "info CS9236" for nested lambdas).
        Assert.DoesNotMatch(@"\binfo CS\d{4}\b", nb.Printed);
    }

    [Fact]
    public void Soft_lookup_blends_and_tends_to_the_hard_one()
    {
        var nb = Run();
        Assert.Contains("Is \"green apple\" a key? False", nb.Printed);
        double hard = nb.Number(@"hard lookup for ""green apple"": ([\d.]+)");
        double soft = nb.Number(@"soft lookup for ""green apple"": ([\d.]+)");
        Assert.Equal(2.5, hard, 3);
        Assert.InRange(soft, 1.8, 9.0);
        Assert.NotEqual(hard, soft);
        Assert.Equal(hard, nb.Number(@"β =\s+64: soft answer = ([\d.]+)"), 3);
        Assert.Contains(nb.Html, h => h.Contains("<table") && h.Contains("soft weight"));
        Assert.Contains(nb.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("hard lookup") && h.Contains("\"lemon\""));
    }

    [Fact]
    public void Nadaraya_Watson_fits_and_the_bandwidth_trades_noise_for_blur()
    {
        var nb = Run();
        Assert.Contains("every row sums to 1: True", nb.Printed);
        double smallest = nb.Number(@"smallest h = [\d.]+: MSE = ([\d.]+)");
        double best = nb.Number(@"best h = [\d.]+: MSE = ([\d.]+)");
        double largest = nb.Number(@"largest h = [\d.]+: MSE = ([\d.]+)");
        Assert.True(best < smallest && best < largest, $"{smallest} {best} {largest}");
        Assert.InRange(nb.Number(@"best h = ([\d.]+):"), 0.05, 1.0);
        // "the weights form a band along the diagonal": the 5 nearest of 40 points hold most of each row.
        Assert.True(nb.Number(@"the 5 training points nearest a query hold (\d+) % of its weight") > 60);
        // Small h: "attend to only its nearest one or two samples"; large h: "flattens towards the overall mean".
        Assert.True(nb.Number(@"h = 0.05: MSE = [\d.]+, mean largest weight per query = ([\d.]+)") > 0.5);
        Assert.Equal(0.025, nb.Number(@"h =  1.5: MSE = [\d.]+, mean largest weight per query = [\d.]+ \(uniform weights: 1/40 = ([\d.]+)\)"), 3);
        double trueSpread = nb.Number(@"h =  1.5: the prediction's spread \(std over the grid\) is [\d.]+; the true function's is ([\d.]+)");
        Assert.True(nb.Number(@"h =  1.5: the prediction's spread \(std over the grid\) is ([\d.]+)") < 0.6 * trueSpread);
        // Baselines: "the largest bandwidth is barely better than predicting the mean everywhere, the best one more than ten times better".
        double meanOnly = nb.Number(@"predicting the mean of the training targets everywhere gives MSE = ([\d.]+)");
        Assert.True(largest > 0.9 * meanOnly, $"largest h {largest} vs mean-only {meanOnly}");
        Assert.True(nb.Number(@"best h beats the constant baseline by ([\d.]+)×") > 10);
        Assert.True(nb.Number(@"max \|kernel regression − dot-product attention\| = ([\d.E+\-]+)") < 1e-10);
        Assert.Contains(nb.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Nadaraya–Watson weights"));
        Assert.True(nb.FigureCount("line") >= 4);
    }

    [Fact]
    public void Projections_have_the_right_shapes_and_break_symmetry()
    {
        var nb = Run();
        Assert.Contains("X [1, 6, 8] → Q [1, 6, 4], K [1, 6, 4], V [1, 6, 6]", nb.Printed);
        Assert.Equal(112, nb.Number(@"parameters: (\d+) ="));
        Assert.Equal(0, nb.Number(@"Q = K = X:\s+max \|S − Sᵀ\| = ([\d.]+)"));
        Assert.True(nb.Number(@"with W_Q ≠ W_K:\s+max \|S − Sᵀ\| = ([\d.]+)") > 0.01);
        Assert.Equal(6, nb.Number(@"Q = K = X:.*itself: (\d+) of 6"));
        Assert.True(nb.Number(@"with W_Q ≠ W_K:.*itself: (\d+) of 6") < 6);
    }

    [Fact]
    public void Cross_attention_has_one_row_per_query_and_aligns_the_translation()
    {
        var nb = Run();
        Assert.Contains("weights [1, 5, 4], output [1, 5, 32]", nb.Printed);
        Assert.True(nb.Number(@"""black"" puts (\d+) % of its weight on ""noir""") > 50);
        // "The alignment crosses": black → noir, cat → chat; "is" spreads its weight (its largest share is far below the others').
        Assert.Contains("black    → noir", nb.Printed);
        Assert.Contains("cat      → chat", nb.Printed);
        double isShare = nb.Number(@"\nis\s+→ \w+\s+\((\d+) % of its weight\)");
        foreach (var w in new[] { "the", "black", "cat", "sleeping" })
            Assert.True(nb.Number(@"\n" + w + @"\s+→ \w+\s+\((\d+) % of its weight\)") > isShare + 20, w);
        Assert.True(isShare < 75);
        Assert.Contains(nb.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("\"noir\"") && h.Contains("\"sleeping\""));
        Assert.True(nb.FigureCount("heatmap") >= 4);
    }

    [Fact]
    public void Compares_the_four_scoring_functions()
    {
        var nb = Run();
        Assert.Contains(nb.Html, h => h.Contains("<table") && h.Contains("Bahdanau et al. 2014") && h.Contains("Vaswani et al. 2017"));
        // Operations per pair: additive 64 additions + 64 multiply-adds (tanh not counted); the dot family 64 multiply-adds.
        Assert.Contains("additive  : 128 operations per pair (64 additions + 64 multiply-adds, 64 tanh not counted)", nb.Printed);
        Assert.Contains("scaled dot: 64 operations per pair (64 multiply-adds)", nb.Printed);
        Assert.DoesNotContain("multiply-adds per pair", nb.Printed);
        // "additive scoring is by far the slowest".
        Assert.True(nb.Number(@"additive is ([\d.]+)× slower than the slowest dot-style score") > 10);
        // "its softmax is the most peaked"; additive "almost uniform".
        Assert.Contains("lowest entropy: dot;", nb.Printed);
        Assert.InRange(nb.Number(@"additive is ([\d.]+) nats below uniform"), 0, 0.1);
        // "General starts lower ... but grows by about the same factor".
        Assert.True(nb.Number(@"\ngeneral\s*: .*score std ([\d.]+) at d = 64") < nb.Number(@"\ndot\s*: .*score std ([\d.]+) at d = 64"));
        Assert.InRange(nb.Number(@"general ×([\d.]+)"), 2.3, 3.3);
        double dot64 = nb.Number(@"\ndot\s*: .*score std ([\d.]+) at d = 64");
        double dot512 = nb.Number(@"\ndot\s*: .*at d = 64 and ([\d.]+) at d = 512");
        Assert.InRange(dot512 / dot64, 2.3, 3.3);
        Assert.InRange(nb.Number(@"scaled dot: .*score std ([\d.]+) at d = 64"), 0.9, 1.1);
        Assert.InRange(nb.Number(@"scaled dot: .*at d = 64 and ([\d.]+) at d = 512"), 0.85, 1.15);
        Assert.Contains("both below 1E-5: True", nb.Printed);
        Assert.True(nb.FigureCount("bar") >= 1);
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        var nb = Run();
        Assert.Equal(2, nb.Count(Exercise.FailMark));
        Assert.Equal(2, nb.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your MyKernelRegression.*PASS: your MyKernelRegression.*NOT YET: your CrossProjections.*PASS: your CrossProjections", nb.Printed);
    }
}
