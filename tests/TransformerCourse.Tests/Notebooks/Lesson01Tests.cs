using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 1 — The Attention Revolution. Each claim the prose makes about an output is asserted here.</summary>
public class Lesson01Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("01-attention-mechanism/01-the-attention-revolution.ipynb");

    [LessonFact]
    public void Runs_cleanly_and_prints_the_setup_line()
    {
        var nb = Lesson;
        nb.AssertRanCleanly();
        Assert.Matches(@"Device: (cpu|cuda)", nb.Printed);
    }

    [LessonFact]
    public void The_rnn_is_linear_in_n_and_slower_than_attention_by_a_margin_that_shrinks_with_n()
    {
        var nb = Lesson;
        // "The RNN's time grows roughly in proportion to n (the first fitted exponent)".
        double rnnExponent = nb.Number(@"RNN time grows like n\^" + Num);
        Assert.InRange(rnnExponent, 0.6, 1.4);
        // "the count is n/d times the RNN's — half of it at n = 32, equal at n = d = 64, and more from there on, 16× at n = 1024".
        Assert.Equal(0.5, nb.Number(@"n =\s+32: .*attention does\s+" + Num + "× the RNN's multiply-adds"), 6);
        Assert.Equal(1.0, nb.Number(@"n =\s+64: .*attention does\s+" + Num + "× the RNN's multiply-adds"), 6);
        Assert.Equal(16.0, nb.Number(@"n =\s+1024: .*attention does\s+" + Num + "× the RNN's multiply-adds"), 6);
        // "even on one thread it finished first at most lengths, and at most of those where it does more arithmetic".
        Assert.True(nb.Number(@"attention finished sooner at (\d+) of 6 lengths") >= 4);
        Assert.True(nb.Number(@"n > d = 64: 4 lengths\) it still finished sooner at (\d+) of them") >= 3);
        // "attention's fitted exponent is the larger one" (its count grows like n², the loop's like n).
        Assert.True(nb.Number(@"attention time like n\^" + Num + @" \(fits over n ≥ 128\)") > rnnExponent + 0.2);
        // "the ratio line shows the RNN/attention ratio at the largest length well below its peak (the verdict checks it is under half)".
        double atLargest = nb.Number(@"time ratio at the largest length, n = 1024: " + Num + "×");
        double peak = nb.Number(@"down from a peak of " + Num + "×");
        Assert.True(atLargest < peak / 2, $"ratio at n = 1024 ({atLargest}) should be below half the peak ({peak})");
        Assert.Matches("below half the peak: yes", nb.Printed);
        // The speaker note's extrapolated meeting point is printed (an estimate, beyond the middle of the lengths timed).
        Assert.True(nb.Number(@"the two curves would cross near n ≈ (\d+)") > 256);
        // The table in section 5 reports the median RNN/attention ratio over all six lengths, the one cell 4 printed.
        double median = nb.Number(@"median RNN/attention time ratio over the 6 lengths: " + Num + "×");
        Assert.True(median > 1.0, $"median ratio {median} should favour attention when it wins at least 4 of 6 lengths");
        Assert.InRange(median, nb.Number(@"\(range " + Num + "× to"), nb.Number(@"× to " + Num + @"×\)"));
        Assert.Contains(nb.Html, h => h.Contains("matmul-friendly") && h.Contains("batched vs step-by-step, one thread")
            && h.Contains($"RNN/attention time ratio: median {median:0.00}") && h.Contains($"over n = 32–1024, {atLargest:0.00}")
            && h.Contains("at n = 1024 (shrinking as n grows"));
        // Cell 24's sentence on run-to-run noise refers to these two printed timings of n = 1024.
        Assert.Matches(@"attention at n = 1024, timed twice: [\d.]+ ms in section 1 \(median of 15\), [\d.]+ ms here", nb.Printed);
        Assert.True(nb.FigureCount("line") >= 2);
    }

    [LessonFact]
    public void The_rnn_gradient_vanishes_with_distance_and_attention_does_not()
    {
        var nb = Lesson;
        // "falls by many orders of magnitude".
        Assert.True(nb.Number(@"the gradient fell by " + Num + " orders of magnitude") >= 6);
        double rnnOrders = nb.Number(@"the gradient fell by " + Num + " orders of magnitude");
        // "its whole spread is a fraction of the orders of magnitude the RNN loses".
        double attentionOrders = nb.Number(@"\(a factor of \d+, " + Num + @" orders of magnitude\) at every length");
        Assert.True(attentionOrders < rnnOrders / 4, $"attention's spread {attentionOrders} vs the RNN's fall {rnnOrders}");
        Assert.True(nb.Number(@"at n = 64 it is " + Num + "× its value at n = 2") > 0.1);
        // "drifts down … (the fitted slope is printed and is negative)".
        Assert.InRange(nb.Number(@"log–log slope of the gradient against n: " + Num), -1.0, -0.01);
        // "the RNN is ahead at the shortest lengths (the crossover line names them)": 2, 4 and 8 for seed 1.
        Assert.Matches(@"the RNN's gradient is larger than attention's at n = 2, 4, 8; attention's is larger at every other length", nb.Printed);
        Assert.True(nb.Number(@"gradient reach at n = \d+: attention / RNN = " + Num) > 1e6);
    }

    [LessonFact]
    public void The_soft_lookup_favours_the_animals_switches_nothing_off_and_matches_the_builtin()
    {
        var nb = Lesson;
        Assert.InRange(nb.Number(@"cat\s+score\s+[\d.]+\s+weight ([\d.]+)"), 0.5, 0.53);
        Assert.True(nb.Number(@"the two animals \(cat, mice\) get (\d+) % of the weight") > 50);
        Assert.True(nb.Number(@"the smallest weight is " + Num + ", not zero") > 0.01);
        Assert.True(nb.Number(@"max \|by hand − TorchSharp built-in\| = " + Num) < 1e-5);
        Assert.True(nb.FigureCount("heatmap") >= 1);
    }

    [LessonFact]
    public void Shows_lineage_families_reasons_and_the_course_map()
    {
        var nb = Lesson;
        Assert.Contains(nb.Html, h => h.Contains("Bahdanau") && h.Contains("<table"));
        // "each row names the paper to cite and its authors": no anonymous rows; latent attention is credited to DeepSeek-V2 (2024).
        Assert.Contains(nb.Html, h => h.Contains("Mistral 7B") && h.Contains("DeepSeek-V2") && !h.Contains("many groups") && !h.Contains("DeepSeek-V3"));
        Assert.Matches("19 milestones from 2014 to 2024", nb.Printed);
        Assert.Contains(nb.Html, h => h.Contains("encoder–decoder") && h.Contains("decoder-only"));
        Assert.Contains(nb.Html, h => h.Contains("<table") && h.Contains("matmul-friendly") && h.Contains("Counted"));
        Assert.True(nb.Number(@"attention achieves (\d+)× the arithmetic rate") >= 2);
        Assert.InRange(nb.Number(@"; " + Num + " % of its arithmetic is matrix products"), 97, 99);
        Assert.Equal(28, nb.Html.Single(h => h.Contains("Sampling, Inspection and Shipping")).Split("<tr>").Length - 2);
    }

    [LessonFact]
    public void The_cost_is_quadratic_by_count_by_clock_and_by_memory()
    {
        var nb = Lesson;
        Assert.Equal(4.0, nb.Number(@"counted arithmetic grows like n\^[\d.]+: ×" + Num + " per doubling"), 2);
        // The prose asks the verdict line, not the reader, whether the clock's exponent is within 0.5 of the count's 2.
        double exponent = nb.Number(@"measured time \(n ≥ 4096\) grows like n\^" + Num);
        Assert.InRange(exponent, 1.6, 3.5);
        Assert.Matches(Math.Abs(exponent - 2) <= 0.5 ? "within 0.5 of the count's 2: yes" : "within 0.5 of the count's 2: no", nb.Printed);
        Assert.InRange(nb.Number(@"weight tensor grows like n\^" + Num), 1.99, 2.01);
        // "from 4096 up the process's growth follows n² … and at 8192 it matches the weight tensor".
        Assert.InRange(nb.Number(@"resident memory growth \(n ≥ 4096\) like n\^" + Num), 1.8, 2.2);
        Assert.InRange(nb.Number(@"while the weights were alive: " + Num + "× the weight tensor's"), 0.9, 1.1);
        Assert.True(nb.FigureCount("line") >= 4);
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        var nb = Lesson;
        Assert.Equal(3, nb.Count(Exercise.FailMark));
        Assert.Equal(3, nb.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your LookupWeights.*PASS: your LookupWeights.*NOT YET: your WeightGradient.*PASS: your WeightGradient.*NOT YET: your LearnQuery.*PASS: your LearnQuery", nb.Printed);
    }
}

/// <summary>The same facts about the lesson, asserted on the copy real Jupyter executed (kernel .net-csharp).</summary>
[InJupyter]
public class Lesson01InJupyter : Lesson01Tests
{
    protected override ExecutedNotebook Lesson => ExecutedNotebook.RunInJupyter("01-attention-mechanism/01-the-attention-revolution.ipynb");
}
