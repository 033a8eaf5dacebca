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
        Assert.True(Math.Abs(best - unigram) < 0.03, "near the unigram baseline");
        Assert.True(best < teacher - 0.05, "far below the lesson-13 model");
        Assert.True(Get(@"each pair is seen about ([\d.]+) times") >= 3, "each pair drawn many times");
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
    public void The_student_keeps_most_of_the_teachers_accuracy_and_runs_faster()
    {
        double teacher = Get(@"teacher: 2 layers, [\d,]+ parameters, held-out MLM accuracy ([\d.]+)");
        Assert.Matches(@"student: 1 layer, [\d,]+ parameters", Lesson.Printed);
        double before = Get(@"student before training \(a layer dropped\): accuracy ([\d.]+)");
        double distilled = Get(@"distilled \(T = 2, α = 0.5\): accuracy ([\d.]+)");
        double hard = Get(@"true tokens only \(α = 0\): +accuracy ([\d.]+)");
        Assert.True(distilled / teacher > 0.8, "keeps most of the teacher's accuracy");
        Assert.True(before / teacher > 0.8, "most of it was there before training");
        Assert.True(Math.Abs(Get(@"distilled − true tokens only: ([-+][\d.]+) accuracy \(one seed each\)")) < 0.01, "too small to read");
        Assert.Equal(distilled - hard, Get(@"distilled − true tokens only: ([-+][\d.]+) accuracy"), 0.0015);
        double speedUp = Get(@"speed-up ([\d.]+)x");
        Assert.InRange(speedUp, 1.5, 2.3);   // "close to the 2× that halving the layers allows"
    }

    [LessonFact]
    public void Electra_discriminator_has_barely_started_and_its_line_is_shown()
    {
        double accuracy = Get(@"discriminator accuracy ([\d.]+) % vs ([\d.]+) % for 'everything is original'");
        double baseline = Get(@"discriminator accuracy [\d.]+ % vs ([\d.]+) % for 'everything is original'");
        Assert.True(Math.Abs(accuracy - baseline) < 2.0, "close to the all-original baseline");
        Assert.True(Get(@"replaced tokens it flags: ([\d.]+) %") < 25, "a small share of the replaced tokens");
        Assert.Matches(@"line: .{10,}", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("after the generator") && h.Contains("P(replaced)"));
    }

    [LessonFact]
    public void Sentence_embeddings_have_a_high_common_cosine_and_neighbours_share_more_tokens()
    {
        double random = Get(@"mean cosine of two different lines: ([\d.]+); of the query's 5 nearest: ([\d.]+)");
        double near = Get(@"mean cosine of two different lines: [\d.]+; of the query's 5 nearest: ([\d.]+)");
        Assert.True(random > 0.5, "even unrelated lines have a high cosine");
        Assert.True(near > random);
        Assert.True(Get(@"of random pairs: [\d.]+ → ([\d.]+)x") > 1, "neighbours share more tokens than random pairs");
        Assert.Contains(Lesson.Html, h => h.Contains("cosine") && h.Contains("rank"));
    }

    [LessonFact]
    public void Exercise_checks_fail_on_the_placeholders_and_pass_on_the_solutions()
    {
        Assert.Equal(3, Lesson.Count($"{Exercise.FailMark}: your"));
        Assert.Equal(3, Lesson.Count($"{Exercise.PassMark}: your"));
        Assert.Contains("AlbertParameters is right", Lesson.Printed);
        Assert.Contains("SoftTargetLoss is right", Lesson.Printed);
        Assert.Contains("MeanPool is right", Lesson.Printed);
    }
}
