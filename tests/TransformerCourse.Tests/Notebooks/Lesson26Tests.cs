using System.Text.RegularExpressions;
using TransformerCourse.Data;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 26 — Building the Mini-GPT.</summary>
public class Lesson26Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("06-capstone-mini-gpt/26-building-mini-gpt.ipynb");

    [LessonFact]
    public void Runs_cleanly_top_to_bottom() => Lesson.AssertRanCleanly();

    [LessonFact]
    public void Shows_the_manifest_and_verifies_the_download_itself()
    {
        var manifest = DatasetManifest.TinyShakespeare;
        Assert.Contains($"URL      : {manifest.Url}", Lesson.Printed);
        Assert.Contains("size     : 1,115,394 bytes", Lesson.Printed);
        Assert.Contains($"SHA-256  : {manifest.Sha256}", Lesson.Printed);
        Assert.Matches(@"verified copy: .*tinyshakespeare[/\\]input\.txt", Lesson.Printed);
        Assert.Contains($"our SHA-256 of the cached file: {manifest.Sha256}", Lesson.Printed);
        Assert.Contains("equals the manifest: True; size 1,115,394 bytes", Lesson.Printed);
        // Avalanche: about half of the 256 bits change (binomial, sd 8), and a hex digit survives with probability 1/16.
        Assert.InRange(Lesson.Number(@"bits that changed: (\d+) of 256"), 128 - 32, 128 + 32);
        Assert.InRange(Lesson.Number(@"hex digits that changed: (\d+) of 64"), 52, 64);
        Assert.InRange(Lesson.Number(@"lines in the file: (\d+),\d{3}"), 39, 41);   // "about 40,000 lines" in the prose
    }

    [LessonFact]
    public void Tokenizes_splits_and_batches_Tiny_Shakespeare()
    {
        Assert.Equal(65, Lesson.Number(@"vocabulary size V = (\d+)"));
        Assert.Contains("decode(encode(whole text)) == text: True", Lesson.Printed);
        Assert.Contains("training tokens   = 1,003,854 (90.0 %)", Lesson.Printed);
        Assert.Contains("validation tokens = 111,540 (10.0 %)", Lesson.Printed);
        Assert.Contains("every character of the file: True", Lesson.Printed);
        // Baselines on the validation split: uniform > unigram > bigram (measured 4.174 > 3.3 > 2.5).
        var uniform = Lesson.Number(@"uniform " + Num + ", unigram");
        var unigram = Lesson.Number(@"unigram " + Num + ", bigram");
        var bigram = Lesson.Number(@"bigram " + Num + "\n");
        Assert.Equal(Math.Log(65), uniform, 3);
        Assert.InRange(unigram, 3.0, 3.5);
        Assert.InRange(bigram, 2.3, 2.7);
        Assert.Contains("inputs 4×64, targets 4×64", Lesson.Printed);
        Assert.Equal(0, Lesson.Number(@"shift check: max \|x\[:, 1:\] − y\[:, :-1\]\| = (\d+)"));
        Assert.True(Lesson.FigureCount("bar") >= 1);
    }

    [LessonFact]
    public void Counts_every_parameter_and_matches_nanoGPT()
    {
        Assert.Contains("sum of the table = 809,856; model.ParameterCount = 809,856", Lesson.Printed);
        Assert.Contains("matrices inside the blocks = 786,432; 12·L·d² = 786,432", Lesson.Printed);
        Assert.Contains("without biases and position embeddings 10,646,784 = 10.65M (nanoGPT: 10.65M)", Lesson.Printed);
        Assert.Contains("gpu recipe: 6 layers × 6 heads × width 384, context 256", Lesson.Printed);
        // "the token embedding alone would be several times all four blocks together"; "embeddings are a small share".
        Assert.Contains("all 4 blocks together = 793,088", Lesson.Printed);   // 4·(12d² + 13d), d = 128
        Assert.True(Lesson.Number(@"the token embedding alone = [\d,]+ \(" + Num + "× the blocks") > 3);
        Assert.True(Lesson.Number(@"embeddings here: " + Num + " %") < 5);
        var table = Assert.Single(Lesson.Html, h => h.Contains("<table") && h.Contains("position embedding"));
        Assert.Equal(6, Regex.Matches(table, "<tr>").Count - 1);   // five components and the total
    }

    [LessonFact]
    public void The_untrained_model_starts_at_ln_65_and_its_attention_is_uniform()
    {
        var initial = Lesson.Number(@"loss at initialisation = " + Num);
        Assert.Equal(Math.Log(65), Lesson.Number(@"ln V = ln 65 = " + Num), 3);
        Assert.InRange(initial, Math.Log(65) - 0.1, Math.Log(65) + 0.1);
        // ln V + σ²/2 with the measured logit spread predicts the initial loss (prose: within 0.02).
        Assert.True(Math.Abs(Lesson.Number(@"measured − predicted = " + Num)) < 0.02);
        Assert.Contains("the prediction holds within 0.02", Lesson.Printed);
        Assert.True(Lesson.Number(@"max \|fused − from-scratch\| over \d+ positions × 65 logits = " + Num) < 1e-5);
        Assert.Equal(0, Lesson.Number(@"changing the last token = " + Num));
        Assert.True(Lesson.Number(@"largest \|w − 1/\(i\+1\)\| over all 16 heads = " + Num) < 0.1);
        Assert.True(Lesson.FigureCount("heatmap") >= 1);
    }

    [LessonFact]
    public void Overfits_one_batch_but_does_not_generalise()
    {
        Assert.InRange(Lesson.Number(@"overfit loss: step 1 = " + Num), Math.Log(65) - 0.2, Math.Log(65) + 0.2);
        Assert.True(Lesson.Number(@"overfit loss: step 1 = [\d.]+, step 200 = " + Num) < 0.05);
        Assert.True(Lesson.Number(@"memorised batch: \d+ of 512 next characters predicted correctly \(" + Num) >= 95);
        var fresh = Lesson.Number(@"a batch it has never seen: loss = " + Num);
        Assert.True(fresh > Math.Log(65));
        Assert.True(fresh > Lesson.Number(@"the same model untrained on that batch = " + Num));
        Assert.Contains("memorising made it worse", Lesson.Printed);
        Assert.True(Lesson.FigureCount("line") >= 1);
    }

    [LessonFact]
    public void Exercises_fail_on_the_placeholders_and_pass_with_the_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Contains($"{Exercise.FailMark}: your MakeBatch", Lesson.Printed);
        Assert.Contains($"{Exercise.PassMark}: your MakeBatch", Lesson.Printed);
        Assert.Contains($"{Exercise.FailMark}: your parameter formula — it still returns 0", Lesson.Printed);
        Assert.Contains($"{Exercise.PassMark}: your parameter formula", Lesson.Printed);
    }
}

/// <summary>The same facts about the lesson, asserted on the copy real Jupyter executed (kernel .net-csharp).</summary>
[InJupyter]
public class Lesson26InJupyter : Lesson26Tests
{
    protected override ExecutedNotebook Lesson => ExecutedNotebook.RunInJupyter("06-capstone-mini-gpt/26-building-mini-gpt.ipynb");
}
