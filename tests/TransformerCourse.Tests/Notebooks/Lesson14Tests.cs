using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 14 — Fine-Tuning BERT. Asserts every claim the prose makes about an output.</summary>
public class Lesson14Tests
{
    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("03-bert-encoders/14-fine-tuning-bert.ipynb");

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(2, "(15-encoder-family.ipynb)");
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void The_pretrained_model_is_lesson_13s_and_its_mlm_accuracy_is_low()
    {
        Assert.Matches(@"(loaded the checkpoint|pretrained now)", Lesson.Printed);
        Assert.Matches(@"mini-BERT: \d+ layers, width \d+", Lesson.Printed);
        Assert.True(Lesson.Number(@"held-out MLM accuracy ([\d.]+)") < 0.3, "the prose calls its MLM accuracy low");
    }

    [LessonFact]
    public void Both_tasks_are_derived_with_their_baselines()
    {
        Assert.Matches(@"who speaks: 1,\d{3} training passages, \d{3} test passages", Lesson.Printed);
        var majority = Lesson.Number(@"is right on ([\d.]+) of the test passages");
        Assert.InRange(majority, 1.0 / 6, 0.3);
        Assert.True(Lesson.Number(@"names: (\d+) found in the headings") >= 50);
        double share = Lesson.Number(@"test words are names \(([\d.]+) %\)");
        Assert.InRange(share, 3, 40);
        double nothing = Lesson.Number(@"tag nothing as a name: word accuracy ([\d.]+)");
        Assert.Equal(1 - share / 100, nothing, 2);
        Assert.True(Lesson.Number(@"capital-letter rule .*?name F1 ([\d.]+)") > 0.3, "the rule is a real baseline");
    }

    [LessonFact]
    public void Labels_sit_on_first_pieces_and_the_heads_match_the_formula()
    {
        var tokens = Regex.Match(Lesson.Printed, @"tokens: (.*)\n").Groups[1].Value;
        Assert.Contains("/-100", tokens);
        // "a name often begins with a lone ␣ piece": the example shows one, and the count is a real share of the test names
        Assert.Contains("␣/1", tokens);
        var lone = Regex.Match(Lesson.Printed, @"test names whose first piece is a lone space: ([\d,]+) of ([\d,]+)");
        Assert.True(lone.Success, Lesson.Printed);
        double loneCount = double.Parse(lone.Groups[1].Value.Replace(",", "")), names = double.Parse(lone.Groups[2].Value.Replace(",", ""));
        Assert.InRange(loneCount / names, 0.5, 1.0);   // "most names begin with a lone ␣ piece"
        Assert.Contains("one label per word: True", Lesson.Printed);
        Assert.Contains("(tolerance 1e-5: True)", Lesson.Printed);
        Assert.Equal(2, Lesson.Count("(tolerance 1e-5: True)"));
        Assert.Matches(@"sequence head: 774 new parameters", Lesson.Printed);   // 128 · 6 + 6
    }

    [LessonFact]
    public void The_speaker_task_stays_near_its_baseline_and_the_two_models_are_close()
    {
        var majority = Lesson.Number(@"baselines: majority ([\d.]+)");
        var pre = Lesson.Number(@"pretrained   test accuracy ([\d.]+)");
        var scratch = Lesson.Number(@"from scratch test accuracy ([\d.]+)");
        Assert.True(Math.Max(pre, scratch) - majority < 0.1, "neither gets far above the majority baseline");
        Assert.Contains("less than 0.1 above the baseline", Lesson.Printed);
        Assert.True(Math.Abs(pre - scratch) < 0.05, "the prose says the two accuracies are within a few points");
        Assert.Contains($"pretrained ahead of from scratch: {pre > scratch}", Lesson.Printed);
    }

    static List<(string Budget, bool Pretrained, double F1)> Runs(ExecutedNotebook lesson) =>
        Regex.Matches(lesson.Printed, @"(\d+) % \(\s*\d+ lines,\s*\d+ names\) (pretrained|from scratch)\s*: word accuracy [\d.]+, name F1 ([\d.]+)")
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value == "pretrained", double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();

    [LessonFact]
    public void Pretraining_helps_at_every_budget_most_at_the_smallest()
    {
        var runs = Runs(Lesson);
        Assert.Equal(6, runs.Count);
        double F1(string budget, bool pretrained) => runs.Single(r => r.Budget == budget && r.Pretrained == pretrained).F1;
        Assert.True(F1("1", true) - F1("1", false) > 0.03, $"clearly higher at 1 %: {F1("1", true)} vs {F1("1", false)}");
        Assert.Matches(@"smallest budget \(1 %, \d+ lines\): name F1 pretrained [\d.]+ vs from scratch [\d.]+: pretraining helps", Lesson.Printed);
        // "it stays ahead at every budget, by less as the labels grow"
        double[] gains = new[] { "1", "10", "100" }.Select(b => F1(b, true) - F1(b, false)).ToArray();
        Assert.All(gains, g => Assert.True(g > 0, string.Join(", ", gains)));
        // "most at 1 %, about half as much at 10 % and 100 %"
        Assert.True(gains[0] > 1.5 * Math.Max(gains[1], gains[2]), string.Join(", ", gains));
        // "With 1 % or 10 % of the labels, neither model reaches the capital-letter rule ... With every label the
        // pretrained model passes it and the one from scratch draws level with it (within 0.01)"
        double rule = Lesson.Number(@"capital-letter rule \(F1 ([\d.]+)\)");
        Assert.All(runs.Where(r => r.Budget != "100"), r => Assert.True(r.F1 < rule, $"{r.Budget} % {r.Pretrained}: {r.F1} vs rule {rule}"));
        Assert.True(F1("100", true) > rule, $"pretrained at 100 %: {F1("100", true)} vs rule {rule}");
        Assert.True(Math.Abs(F1("100", false) - rule) < 0.01, $"from scratch at 100 %: {F1("100", false)} vs rule {rule}");
        Assert.Contains("more labels never lower F1: pretrained True, from scratch True", Lesson.Printed);
    }

    [LessonFact]
    public void The_table_and_the_curves_are_shown()
    {
        Assert.Contains(Lesson.Html, h => h.Contains("F1 from scratch") && h.Contains("F1 capital rule"));
        Assert.Equal(2, Lesson.FigureCount("line"));
    }

    [LessonFact]
    public void Each_exercise_fails_on_the_placeholder_and_passes_on_the_solution()
    {
        Assert.Equal(2, Lesson.Count($"{Exercise.FailMark}: your "));
        Assert.Contains($"{Exercise.PassMark}: your AlignLabels is right.", Lesson.Printed);
        Assert.Contains($"{Exercise.PassMark}: your F1Score is right.", Lesson.Printed);
        Assert.Contains("are right: the placeholder is still there", Lesson.Printed);
    }
}
