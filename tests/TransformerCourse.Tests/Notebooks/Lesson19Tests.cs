using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>
/// Lesson 19 — Scaling Laws. It checks its prediction against the capstone model that lesson 27 trains, so lesson 27
/// runs first (once per test run, shared with Lesson27Tests and Lesson28Tests).
/// </summary>
public class Lesson19Tests
{
    const string Num = @"([-+]?[\d.,]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson
    {
        get
        {
            _ = ExecutedNotebook.Run("06-capstone-mini-gpt/27-training-on-the-gpu.ipynb");   // writes runs/lesson27/ckpt.bin
            return ExecutedNotebook.Run("04-gpt-decoders/19-scaling-laws.ipynb");
        }
    }

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    double Value(string pattern) => Parse(Regex.Match(Lesson.Printed, pattern) is { Success: true } m ? m.Groups[1].Value
        : throw new Xunit.Sdk.XunitException($"'{pattern}' not found in what the lesson printed:\n{Lesson.Printed}"));

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(2, "(20-in-context-learning.ipynb)");
        Assert.Contains("(18-kv-cache.ipynb)", string.Concat(Lesson.Cells.ElementAt(2)["source"]!.AsArray().Select(l => (string?)l)));
        var source = string.Concat(Lesson.Cells.Where(c => (string?)c["cell_type"] == "code").Select(c => c["source"]?.ToJsonString()));
        Assert.DoesNotMatch(@"\b(CheckpointInfo|Tensor|string|int|long|double|float)\?[ >\]]", source);   // CS8632 in real Jupyter
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds() => Lesson.AssertEveryCellPrintsAtMost(13);

    [LessonFact]
    public void The_family_spans_more_than_ten_times_in_n_and_its_counts_match_the_closed_form()
    {
        Assert.Equal(6, Regex.Matches(Lesson.Printed, @"width +\d+, \d head\(s\): N = +[\d,]+ counted, L\(12d² \+ 13d\) \+ 2d = +[\d,]+: agree").Count);
        Assert.DoesNotContain("DISAGREE", Lesson.Printed);
        Assert.True(Value(@"largest / smallest N: " + Num + "×") >= 10);
        Assert.Contains("every model trains on the same 983,040 tokens", Lesson.Printed);
    }

    [LessonFact]
    public void Every_model_trains_on_the_same_tokens_and_beats_the_baselines()
    {
        double bigram = Value(@"bigram " + Num), unigram = Value(@"unigram " + Num);
        Assert.Equal(Math.Log(65), Value(@"uniform ln 65 = " + Num), 3);
        Assert.True(bigram < unigram);
        var runs = Regex.Matches(Lesson.Printed, @"width +(\d+) \(N = +([\d,]+)\): ([\d.]+) → ([\d.]+) → ([\d.]+) → ([\d.]+) → ([\d.]+) \(").ToList();
        Assert.Equal(6, runs.Count);
        var losses = runs.Select(r => Enumerable.Range(3, 5).Select(g => Parse(r.Groups[g].Value)).ToArray()).ToArray();
        Assert.All(losses, l => Assert.True(l[^1] < l[0], string.Join(" → ", l)));   // more data, lower loss
        // The printed verdicts agree with the printed numbers.
        bool belowBigram = losses.All(l => l[^1] < bigram);
        Assert.Contains($"every model below the bigram baseline: {(belowBigram ? "yes" : "no")}", Lesson.Printed);
        bool falls = losses.Zip(losses.Skip(1)).All(p => p.Second[^1] < p.First[^1]);
        Assert.Contains($"final loss lower for every larger model: {(falls ? "yes" : "no")}", Lesson.Printed);
        bool ahead = Enumerable.Range(0, 5).All(i => losses.Zip(losses.Skip(1)).All(p => p.Second[i] < p.First[i]));
        Assert.Contains($"larger model lower at every budget: {(ahead ? "yes" : "no")}", Lesson.Printed);
        double gapFirst = losses[0][0] - losses[^1][0], gapLast = losses[0][^1] - losses[^1][^1];
        Assert.Equal(gapLast, Value(@"smallest − largest: [\d.]+ at [\d,]+ tokens → " + Num), 2);
        Assert.Contains(gapLast < gapFirst ? "(narrows)" : "(widens)", Lesson.Printed);
        var drops = Enumerable.Range(0, 4).Select(i => losses[3][i] - losses[3][i + 1]).ToArray();   // width 48
        bool shrinking = drops.Zip(drops.Skip(1)).All(p => p.Second < p.First);
        Assert.Contains($"→ shrinking steadily, as a power law would: {(shrinking ? "yes" : "no")}", Lesson.Printed);
        Assert.False(shrinking, "the reading after the L(D) cell says the drops are not shrinking");
        var beta = Regex.Match(Lesson.Printed, @"β = ([\d.]+) ± [\d.]+ \(bootstrap 95 %: ([\d.]+) to ([\d.]+)\)");
        double betaLow = Parse(beta.Groups[2].Value), betaHigh = Parse(beta.Groups[3].Value);
        Assert.Contains(betaHigh / betaLow > 2 ? "→ uninformative" : "our interval", Lesson.Printed);
        Assert.True(Value(@"whole sweep " + Num + " s") < 120, "the live sweep must leave room in the lesson's 150 s");
    }

    [LessonFact]
    public void The_fit_is_checked_and_reports_its_uncertainty()
    {
        Assert.Contains("α = 0.4000: recovered", Lesson.Printed);
        var m = Regex.Match(Lesson.Printed, @"  α = ([\d.]+) ± ([\d.]+) \(bootstrap 95 %: ([\d.]+) to ([\d.]+)\)");
        Assert.True(m.Success, Lesson.Printed);
        double alpha = Parse(m.Groups[1].Value), se = Parse(m.Groups[2].Value), low = Parse(m.Groups[3].Value), high = Parse(m.Groups[4].Value);
        Assert.True(alpha > 0 && se > 0 && low <= alpha + 1e-3 && alpha <= high + 1e-3, m.Value);
        Assert.Matches(@"Kaplan et al\. \(2020\): α_N ≈ 0\.076 → ours is (steeper|flatter)", Lesson.Printed);
        // The floored comparison is with Hoffmann only (same form); its verdict agrees with the printed interval.
        bool inside = 0.34 >= low && 0.34 <= high;
        Assert.Equal(high / low, Value(@"our 95 % interval, which spans " + Num + "×"), 1);
        Assert.Contains($"Hoffmann et al.'s α = 0.34 is {(inside ? "inside" : "outside")} our 95 % interval", Lesson.Printed);
        Assert.Contains(inside ? (high / low > 2 ? "→ consistent, but too wide to confirm it" : "→ agrees") : "→ disagrees", Lesson.Printed);
        Assert.DoesNotContain("Kaplan's 0.076 is", Lesson.Printed);   // floorless exponent vs floored interval: not comparable
        Assert.Equal(2, Lesson.FigureCount("line"));
        Assert.Contains(Lesson.Html, h => h.Contains("Validation loss vs model size") && h.Contains("non-embedding parameters N") && h.Contains("\"log\""));
        Assert.Contains(Lesson.Html, h => h.Contains("Validation loss vs training tokens") && h.Contains("training tokens D"));
    }

    [LessonFact]
    public void The_smallest_models_are_tested_against_the_law_of_the_larger_ones()
    {
        var lines = Regex.Matches(Lesson.Printed, @"N = +[\d,]+: measured [\d.]+ ± [\d.]+; law of the (\d) larger models: [\d.]+ \(band ([\d.]+) to ([\d.]+), ±2 SE: ([\d.]+) to ([\d.]+)\) → (on the law|above the law|below the law)");
        Assert.Equal(2, lines.Count);
        Assert.Equal(["5", "4"], lines.Select(l => l.Groups[1].Value));
        Assert.Matches(@"verdict: (no model leaves the law|the law of the larger models fails at N ≤ [\d,]+)", Lesson.Printed);
        foreach (Match l in lines)   // the widened band is the printed band widened, and the verdict follows it
        {
            Assert.True(Parse(l.Groups[4].Value) <= Parse(l.Groups[2].Value) && Parse(l.Groups[3].Value) <= Parse(l.Groups[5].Value), l.Value);
            double measured = Parse(Regex.Match(l.Value, @"measured ([\d.]+)").Groups[1].Value);
            bool off = measured < Parse(l.Groups[4].Value) - 0.0015 || measured > Parse(l.Groups[5].Value) + 0.0015;
            bool on = measured > Parse(l.Groups[4].Value) + 0.0015 && measured < Parse(l.Groups[5].Value) - 0.0015;
            if (off) Assert.NotEqual("on the law", l.Groups[6].Value);
            if (on) Assert.Equal("on the law", l.Groups[6].Value);
        }
        bool anyOff = lines.Any(l => l.Groups[6].Value != "on the law");
        Assert.Equal(anyOff, Lesson.Printed.Contains("the law of the larger models fails"));
    }

    [LessonFact]
    public void The_capstone_prediction_is_checked_against_lesson_27()
    {
        Assert.Contains("capstone recipe 'cpu': N = 793,344", Lesson.Printed);
        double fromN = Value(@"prediction 1, L\(N\) at D = [\d,]+: " + Num);
        double fromBoth = Value(@"prediction 2, L\(N, D\): " + Num);
        double measured = Value(@"lesson 27 measured: validation loss " + Num + " after 2000 steps");
        // "Prediction 1 ignores that the capstone saw more tokens than our family (1.6 times as many), so it overshoots."
        Assert.Equal(1.6, Value(@"D = 1,536,000 \(" + Num + @"× our largest budget\)"), 1);
        Assert.True(fromN > measured, $"prediction 1 {fromN} vs measured {measured}");
        // The printed errors and the band verdict agree with the printed numbers.
        Assert.Equal(fromN - measured, Value(@"error of prediction 1: " + Num), 2);
        Assert.Equal(fromBoth - measured, Value(@"of prediction 2: " + Num), 2);
        double low = Value(@"95 % bootstrap band " + Num), high = Value(@"95 % bootstrap band [\d.]+ to " + Num);
        Assert.True(low <= fromBoth && fromBoth <= high);
        Assert.Contains($"measured value {(measured >= low && measured <= high ? "inside" : "outside")} the band", Lesson.Printed);
    }

    [LessonFact]
    public void Compute_optimal_allocation_and_the_scale_out_numbers()
    {
        Assert.Contains("capstone: C ≈ 6·N·D = 7.31E+12 FLOPs, 1.9 tokens per parameter", Lesson.Printed);
        // The 20-token N against our fit's bootstrap range: the verdict follows the printed numbers (the prose reads "outside").
        double twentyN = Value(@"20 tokens per parameter at the same compute: N ≈ " + Num);
        double nLow = Value(@"bootstrap 95 %: N from " + Num), nHigh = Value(@"bootstrap 95 %: N from [\d,]+ to " + Num);
        bool twentyInside = twentyN >= nLow && twentyN <= nHigh;
        Assert.Contains($"the 20-token N ≈ {twentyN:N0} is {(twentyInside ? "inside" : "outside")} our range", Lesson.Printed);
        Assert.False(twentyInside, "cell 21 reads the 20-token point as outside our range");
        Assert.Contains("N ≈ 69.3B, D ≈ 1.39T tokens (published: 70B, 1.4T)", Lesson.Printed);
        Assert.True(Value(@"\(" + Num + "× fewer parameters") > 2);
        Assert.Equal(4, Regex.Matches(Lesson.Printed, @"GB per GPU \(paper: [\d.]+ GB\) agree").Count);
        Assert.Contains("4 micro-batches per step: idle share (p − 1)/(m + p − 1) = 43 %", Lesson.Printed);
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your AllocateCompute — .*placeholder.*PASS: your AllocateCompute.*NOT YET: your FitExponent — .*placeholder.*PASS: your FitExponent", Lesson.Printed);
    }
}
