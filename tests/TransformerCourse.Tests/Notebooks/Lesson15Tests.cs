using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 15 — The Encoder Family. Every claim the prose makes about an output is asserted here.</summary>
public class Lesson15Tests
{
    const string Num = @"([-+]?[\d.,]+)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("03-bert-encoders/15-encoder-family.ipynb");

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    double Get(string pattern, int group = 1)
    {
        var m = Regex.Match(Lesson.Printed, pattern);
        Assert.True(m.Success, $"'{pattern}' not found in:\n{Lesson.Printed}");
        return Parse(m.Groups[group].Value);
    }

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(3, "(../04-gpt-decoders/16-causal-language-modelling.ipynb)");
        Assert.True(Lesson.FigureCount("line") >= 1 && Lesson.FigureCount("bar") >= 1, "a loss chart and the per-token bar chart");
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void The_teacher_beats_the_unigram_baseline()
    {
        double teacher = Get(@"held-out MLM accuracy ([\d.]+) on [\d,]+ masked tokens; unigram baseline ([\d.]+)");
        double unigram = Get(@"held-out MLM accuracy [\d.]+ on [\d,]+ masked tokens; unigram baseline ([\d.]+)");
        Assert.True(teacher > 2 * unigram, $"teacher {teacher} vs unigram {unigram}");
        double loss = Get(@"held-out MLM loss ([\d.]+) vs unigram cross-entropy ([\d.]+) \(lower is better\)");
        double unigramLoss = Get(@"held-out MLM loss [\d.]+ vs unigram cross-entropy ([\d.]+) \(lower is better\)");
        Assert.True(loss < unigramLoss, $"teacher loss {loss} vs unigram cross-entropy {unigramLoss}");
    }

    // A verdict line must agree with its own numbers: "larger" exactly when |difference| > spread.
    static void VerdictIsConsistent(Match m)
    {
        double difference = Parse(m.Groups["d"].Value), spread = Parse(m.Groups["s"].Value);
        bool larger = m.Groups["v"].Value.StartsWith("larger");
        Assert.Equal(Math.Abs(difference) > spread, larger);
    }

    const string Verdict = @"difference (?<d>[-+][\d.]+); seed-to-seed spread (?<s>[\d.]+) → (?<v>larger than the spread|within the spread \(noise at this scale\))";

    [LessonFact]
    public void Roberta_ablation_verdicts_match_their_numbers_and_every_arm_is_still_near_the_unigram_baseline()
    {
        Assert.Equal(6, Regex.Matches(string.Concat(Lesson.Html), @"<td>(static \+ NSP \(BERT\)|dynamic \+ NSP|dynamic, no NSP \(RoBERTa\))</td>").Count);
        var lines = Regex.Matches(Lesson.Printed, @"(masking|NSP): .*" + Verdict);
        Assert.Equal(2, lines.Count);
        foreach (Match m in lines) VerdictIsConsistent(m);
        double best = Get(@"best arm's mean held-out accuracy ([\d.]+); unigram baseline ([\d.]+); the lesson-13 model ([\d.]+)");
        double unigram = Get(@"best arm's mean held-out accuracy [\d.]+; unigram baseline ([\d.]+)");
        double teacher = Get(@"best arm's mean held-out accuracy [\d.]+; unigram baseline [\d.]+; the lesson-13 model ([\d.]+)");
        Assert.True(best - unigram < (teacher - unigram) / 4, "far closer to the unigram guess than to the lesson-13 model");
        Assert.True(best < teacher - 0.05, "far below the lesson-13 model");
        Assert.True(Get(@"each pair is seen about ([\d.]+) times") >= 3, "each pair drawn many times");
        // The loss verdict agrees with its numbers, and the unigram cross-entropy is printed beside the loss verdicts.
        var floor = Regex.Match(Lesson.Printed, @"best arm's mean held-out loss ([\d.]+) vs unigram cross-entropy ([\d.]+): (below it|not clearly below it)");
        Assert.True(floor.Success, Lesson.Printed);
        Assert.Equal(Parse(floor.Groups[1].Value) < Parse(floor.Groups[2].Value) - 0.05, floor.Groups[3].Value == "below it");
        Assert.Contains("held-out MLM loss of a model that ignores the context (unigram cross-entropy): ", Lesson.Printed);
        Assert.Equal("not clearly below it", floor.Groups[3].Value);   // the prose: "its loss is within 0.05 of the unigram cross-entropy"
        Assert.True(Math.Abs(Parse(floor.Groups[1].Value) - Parse(floor.Groups[2].Value)) < 0.05, floor.Value);
    }

    [LessonFact]
    public void Albert_counts_agree_with_the_modules_and_the_paper()
    {
        var rows = Regex.Matches(Lesson.Printed, @"(BERT|ALBERT)-base *: token embedding +([\d.]+)M, layers +([\d.]+)M, total +([\d.]+)M \(closed form\) = ([\d.]+)M \(modules\): equal True; paper (\d+)M");
        Assert.Equal(2, rows.Count);
        double bert = Parse(rows[0].Groups[4].Value), albert = Parse(rows[1].Groups[4].Value);
        Assert.InRange(bert, 100, 115);
        Assert.InRange(albert, 10, 14);
        Assert.InRange(bert / albert, 8.5, 10);   // "about 9×"
        Assert.InRange(Parse(rows[1].Groups[2].Value), 3.8, 4.0);   // "3.9M instead of 23M"
        Assert.InRange(Parse(rows[0].Groups[2].Value), 22.9, 23.1);
        Assert.Contains("closed form = sum over module parameters for all 4 variants: True", Lesson.Printed);
    }

    [LessonFact]
    public void Albert_training_verdicts_match_their_numbers_and_variants_are_near_the_baseline()
    {
        var lines = Regex.Matches(Lesson.Printed, @"held-out MLM loss: .* vs BERT-like .*" + Verdict);
        Assert.Equal(3, lines.Count);
        foreach (Match m in lines) VerdictIsConsistent(m);
        double max = Get(@"mean held-out accuracy of the variants: [\d.]+ to ([\d.]+); unigram baseline ([\d.]+)");
        double unigram = Get(@"mean held-out accuracy of the variants: [\d.]+ to [\d.]+; unigram baseline ([\d.]+)");
        Assert.True(max - unigram < 0.03, "every variant still near the unigram baseline");
        var losses = Regex.Match(Lesson.Printed, @"mean held-out loss of the variants: ([\d.]+) to ([\d.]+); unigram cross-entropy ([\d.]+)");
        Assert.True(losses.Success, Lesson.Printed);
        double ce = Parse(losses.Groups[3].Value);
        Assert.InRange(Parse(losses.Groups[1].Value), ce - 0.2, ce + 0.2);   // "losses around the unigram cross-entropy"
        Assert.InRange(Parse(losses.Groups[2].Value), ce - 0.2, ce + 0.2);
    }

    [LessonFact]
    public void Distillation_loss_matches_kl_div_and_approaches_its_high_temperature_limit()
    {
        Assert.Matches(@"T = 1: ours [\d.]+, TorchSharp's kl_div [\d.]+, \|difference\| [\d.E+-]+ \(tolerance 1e-9\): True", Lesson.Printed);
        var gaps = Regex.Matches(Lesson.Printed, @"relative gap ([\d.]+E[-+]\d+)").Select(m => Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(4, gaps.Count);
        Assert.True(gaps.Zip(gaps.Skip(1)).All(p => p.Second < p.First), "the gap shrinks as T grows");
        Assert.True(gaps[^1] < 1e-3);
    }

    [LessonFact]
    public void The_student_keeps_a_measured_share_of_the_teachers_gain_and_runs_faster()
    {
        double teacher = Get(@"\[MASK\] positions: teacher \(2 layers, [\d,]+ parameters\) ([\d.]+); unigram ([\d.]+)");
        double unigram = Get(@"\[MASK\] positions: teacher \(2 layers, [\d,]+ parameters\) [\d.]+; unigram ([\d.]+)");
        Assert.True(teacher > unigram, "the share of the gain over unigram is defined only when the teacher beats unigram");
        var rows = Regex.Matches(Lesson.Printed, @"(before training|distilled \(T = 2, α = 0.5\)|true tokens only \(α = 0\)): +([\d.]+), keeps (-?[\d]+) % of the teacher's gain over unigram");
        Assert.Equal(3, rows.Count);
        foreach (Match m in rows)
        {
            double accuracy = Parse(m.Groups[2].Value), share = Parse(m.Groups[3].Value);
            Assert.Equal(100 * (accuracy - unigram) / (teacher - unigram), share, 2.0 + 100 * 0.0011 / (teacher - unigram));
        }
        var gain = Regex.Match(Lesson.Printed, @"teacher's gain over unigram at \[MASK\]: ([-+][\d.]+) \(95% sampling band ±([\d.]+)\): (outside the band, so the shares mean something|inside the band, so the shares above are noise)");
        Assert.True(gain.Success, Lesson.Printed);
        Assert.Equal(teacher - unigram, Parse(gain.Groups[1].Value), 0.0015);
        Assert.Equal(Parse(gain.Groups[1].Value) > Parse(gain.Groups[2].Value), gain.Groups[3].Value.StartsWith("outside"));
        Assert.StartsWith("outside", gain.Groups[3].Value);   // the prose: the teacher beats unigram by more than its sampling band
        var edge = Regex.Match(Lesson.Printed, @"distilled − true tokens only: ([-+][\d.]+) \(one seed each; ±([\d.]+) is the 95% sampling band of a difference on [\d,]+ tokens\): (outside the band|inside the band, too small to read)");
        Assert.True(edge.Success, Lesson.Printed);
        Assert.Equal(Math.Abs(Parse(edge.Groups[1].Value)) > Parse(edge.Groups[2].Value), edge.Groups[3].Value == "outside the band");
        // "the distilled student keeps a larger share ... but the difference between them lies just outside its sampling band"
        double edgeValue = Parse(edge.Groups[1].Value), band = Parse(edge.Groups[2].Value);
        Assert.True(edgeValue > 0, $"distilled ahead of true tokens only: {edgeValue}");
        Assert.Equal("outside the band", edge.Groups[3].Value);   // "lies just outside its sampling band"
        Assert.InRange(edgeValue / band, 1.0, 1.5);
        Assert.Equal(Parse(rows[1].Groups[2].Value) - Parse(rows[2].Groups[2].Value), Parse(edge.Groups[1].Value), 0.0015);
        var speed = Regex.Match(Lesson.Printed, @"student's encoder speed-up, two measurements: ([\d.]+)x and ([\d.]+)x; both above 1.5x: (True|False)");
        Assert.True(speed.Success, Lesson.Printed);
        double s1 = Parse(speed.Groups[1].Value), s2 = Parse(speed.Groups[2].Value);
        Assert.Equal(s1 > 1.5 && s2 > 1.5, speed.Groups[3].Value == "True");
        Assert.Equal("True", speed.Groups[3].Value);   // the prose: "faster by more than 1.5× in both measurements"
        Assert.InRange(Math.Max(s1, s2), 1.5, 2.5);
    }

    [LessonFact]
    public void Electra_discriminator_has_barely_started_and_its_line_is_shown()
    {
        double accuracy = Get(@"discriminator accuracy ([\d.]+) % vs ([\d.]+) % for 'everything is original'");
        double baseline = Get(@"discriminator accuracy [\d.]+ % vs ([\d.]+) % for 'everything is original'");
        Assert.True(Math.Abs(accuracy - baseline) < 2.0, "close to the all-original baseline");
        Assert.True(Get(@"replaced tokens it flags: ([\d.]+) %") < 25, "a small share of the replaced tokens");
        Assert.Matches(@"line: .{10,}", Lesson.Printed);
        var line = Regex.Match(Lesson.Printed, @"on this line the discriminator is right on (\d+) of (\d+) tokens; 'everything is original' is right on (\d+)");
        Assert.True(line.Success, Lesson.Printed);
        Assert.True(int.Parse(line.Groups[3].Value) < int.Parse(line.Groups[2].Value), "the line has replaced tokens");
        // "On the line above it calls every token original, so it is right exactly where the all-original baseline is right"
        Assert.Equal(line.Groups[3].Value, line.Groups[1].Value);
        Assert.Contains(Lesson.Html, h => h.Contains("discriminator says") && !h.Contains("<td>replaced</td>"));
        Assert.Contains(Lesson.Html, h => h.Contains("discriminator says"));
        Assert.Contains(Lesson.Html, h => h.Contains("after the generator") && h.Contains("P(replaced)"));
    }

    [LessonFact]
    public void Sentence_embeddings_have_a_high_common_cosine_and_neighbours_share_more_tokens()
    {
        double random = Get(@"mean cosine of two different lines: ([\d.]+); of the query's 5 nearest: ([\d.]+)");
        double near = Get(@"mean cosine of two different lines: [\d.]+; of the query's 5 nearest: ([\d.]+)");
        Assert.True(random > 0.5, "even unrelated lines have a high cosine");
        Assert.True(near > random);
        var many = Regex.Match(Lesson.Printed, @"over 100 queries: mean overlap with the 5 nearest ([\d.]+) vs 5 random lines ([\d.]+) → ([\d.]+)x; nearest ahead for (\d+) of 100 queries");
        Assert.True(many.Success, Lesson.Printed);
        Assert.True(Parse(many.Groups[1].Value) > Parse(many.Groups[2].Value), "over 100 queries the neighbours share more tokens than random lines");
        Assert.True(int.Parse(many.Groups[4].Value) >= 90, "and for nearly every query");
        Assert.Contains(Lesson.Html, h => h.Contains("cosine") && h.Contains("rank"));
    }

    [LessonFact]
    public void Exercise_checks_fail_on_the_placeholders_and_pass_on_the_solutions()
    {
        Assert.Equal(3, Lesson.Count($"{Exercise.FailMark}: your"));
        Assert.Equal(3, Lesson.Count($"{Exercise.PassMark}: your"));
        Assert.Contains("WidestEmbedding is right", Lesson.Printed);
        Assert.Contains("SoftTargetLoss is right", Lesson.Printed);
        Assert.Contains("MeanPool is right", Lesson.Printed);
    }
}
