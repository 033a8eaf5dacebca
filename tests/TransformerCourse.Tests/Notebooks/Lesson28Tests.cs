using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>
/// Lesson 28 — Sampling, Inspection and Shipping. It samples from the model Lesson 27 trained; these tests execute
/// Lesson 27 first (once per test run, shared with Lesson27Tests), so the capstone model is trained only once.
/// </summary>
public class Lesson28Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson
    {
        get
        {
            _ = Lesson27Tests.Lesson;   // trains and saves the model this lesson loads
            return ExecutedNotebook.Run("06-capstone-mini-gpt/28-sampling-and-shipping.ipynb");
        }
    }

    static double Parse(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_top_to_bottom() => Lesson.AssertRanCleanly();

    [LessonFact]
    public void Loads_lesson_27s_model_instead_of_training_again()
    {
        Assert.Contains("model source: loaded Lesson 27's checkpoint (runs/lesson27/ckpt.bin)", Lesson.Printed);
        Assert.Contains("after 2000 of 2000 steps", Lesson.Printed);
        var loss = Lesson.Number(@"validation loss " + Num + " nats per character");
        Assert.True(loss <= 1.90, $"validation loss {loss}");
        Assert.True(loss < Lesson.Number(@"bigram baseline " + Num) - 0.5);
        var source = string.Concat(Lesson.Cells.Where(c => (string?)c["cell_type"] == "code").Select(c => c["source"]?.ToJsonString()));
        Assert.DoesNotMatch(@"\b(GptModel|Tensor|string|int|long|double|float)\?[ >\]]", source);   // CS8632 in real Jupyter
    }

    [LessonFact]
    public void Shows_each_bad_checkpoint_refused_with_its_reason()
    {
        Assert.Contains("a missing file: refused: there is no such file", Lesson.Printed);
        Assert.Matches(@"a text file: refused: '…/junk\.bin' is not a course checkpoint", Lesson.Printed);
        Assert.Matches(@"the checkpoint cut to its first [\d,]+ bytes: refused: '…/cut\.bin' is truncated: the weights of a .* model need at least [\d,]+ bytes, but only [\d,]+ follow the header", Lesson.Printed);
        Assert.Contains("the checkpoint, with our alphabet minus its first symbol: refused: it was trained with a different alphabet", Lesson.Printed);
        Assert.DoesNotContain("LOADED (it should have been refused)", Lesson.Printed);
    }

    [LessonFact]
    public void Temperature_flattens_the_distribution_and_costs_real_words()
    {
        var entropies = Regex.Matches(Lesson.Printed, @"τ = [\d.]+: p\('.'\) = [\d.]+, entropy ([\d.]+) nats").Select(m => Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(3, entropies.Count);
        Assert.True(entropies[0] < entropies[1] && entropies[1] < entropies[2], string.Join(", ", entropies));
        Assert.True(Lesson.Number(@"real-word rate at τ = 0\.5 minus at τ = 1\.5: " + Num + " percentage points") > 10);
        Assert.Equal(9, Regex.Matches(Lesson.Printed, @"real-word rate \d+ %, variety \d+ % \(\d+ words\), speaker lines \d+").Count);   // 4 samples, real text, 4 bigram samples
        Assert.Contains("temperature clearly trades real words away", Lesson.Printed);
        // Real validation text is the ceiling: at least as many real words as the coolest sample.
        Assert.True(Lesson.Number(@"validation text +real-word rate (\d+) %") >= Lesson.Number(@"(?<!bigram )τ = 0\.5 +real-word rate (\d+) %"));
        // "the coolest sample's variety is below real text's"
        Assert.True(Lesson.Number(@"(?<!bigram )τ = 0\.5 +real-word rate \d+ %, variety (\d+) %") < Lesson.Number(@"validation text +real-word rate \d+ %, variety (\d+) %"));
        // The bigram sampler is the floor: the transformer beats it at every setting, clearly at its own distribution (τ = 1).
        Assert.Contains("the transformer spells more real words than the bigram at every setting: True", Lesson.Printed);
        Assert.True(Lesson.Number(@"transformer minus bigram, real-word rate: .*\+(\d+) points at τ = 1,") >= 15);
        Assert.True(Lesson.Number(@"bigram τ = 1 +real-word rate (\d+) %") < Lesson.Number(@"(?<!bigram )τ = 1 +real-word rate (\d+) %"));
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("τ = 0.8, top-k 20") && h.Contains("ROMEO:"));
        Assert.True(Lesson.FigureCount("bar") >= 1);
    }

    [LessonFact]
    public void The_kv_cache_gives_identical_tokens_and_computes_each_position_once()
    {
        Assert.Contains("cached == full recomputation for every length: True", Lesson.Printed);
        var rows = Regex.Matches(Lesson.Printed, @"(\d+) new tokens \((inside the window|window slides)\) *: positions +([\d,]+) with the cache, +([\d,]+) without \(([\d.]+)×\)")
            .Select(m => (N: int.Parse(m.Groups[1].Value), Inside: m.Groups[2].Value == "inside the window",
                Cached: long.Parse(m.Groups[3].Value.Replace(",", "")), Full: long.Parse(m.Groups[4].Value.Replace(",", "")), Ratio: Parse(m.Groups[5].Value))).ToList();
        Assert.Equal(6, rows.Count);
        const int prompt = 6;   // "ROMEO:"
        foreach (var r in rows.Where(r => r.Inside))
        {
            Assert.Equal(prompt + r.N - 1, r.Cached);                                          // each position once
            Assert.Equal(Enumerable.Range(0, r.N).Sum(i => (long)(prompt + i)), r.Full);      // the whole prefix every step
        }
        var inside = rows.Where(r => r.Inside).Select(r => r.Ratio).ToList();
        var sliding = rows.Where(r => !r.Inside).Select(r => r.Ratio).ToList();
        Assert.True(inside.Zip(inside.Skip(1)).All(p => p.Second > p.First), "the saving in positions grows inside the window: " + string.Join(", ", inside));
        Assert.True(sliding.Zip(sliding.Skip(1)).All(p => p.Second < p.First) && sliding.All(x => x < 2), "past the window the ratio falls towards 1: " + string.Join(", ", sliding));
        // The interleaved medians follow the work: "time rises with length on both paths, and inside the window the measured speed-up stays below the counted one".
        Assert.Contains("time rises with length: with the cache True, without it True", Lesson.Printed);
        Assert.Contains("measured speed-up below the counted one at every length inside the window: True", Lesson.Printed);
        // Small model and gpu shape at the same length: the same positions, so the same work saved.
        Assert.Matches(@"58 new tokens: positions 63 with the cache, 2,001 without for both models \(work saved 31\.8×\); identical tokens: True", Lesson.Printed);
        var models = Regex.Matches(Lesson.Printed, @"(our model|gpu shape) \( *([\d.]+) M parameters, +\d+ MB\): +\d+ ms with the cache, +\d+ ms without → time saved ([\d.]+)× \((\d+) % of the work saved\); a 1-position pass costs (\d+)× as much per position as a 64-position pass");
        Assert.Equal(2, models.Count);
        Assert.True(Parse(models[1].Groups[2].Value) > 10 * Parse(models[0].Groups[2].Value));
        foreach (Match m in models)
        {
            Assert.True(Parse(m.Groups[3].Value) > 1.2, m.Value);          // the cache saves time …
            Assert.True(Parse(m.Groups[4].Value) < 50, m.Value);           // … but far less than it saves work
            Assert.True(Parse(m.Groups[5].Value) >= 4, m.Value);           // because one position per pass is the inefficient case
        }
        Assert.Matches(@"the bigger model turns (more|less) of the same work saving into time", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("KV cache"));
    }

    [LessonFact]
    public void Shows_every_trained_head_as_a_heatmap_with_measurements()
    {
        Assert.True(Lesson.Number(@"probe check: max \|probe logits − model logits\| = " + Num) < 1e-4);
        var heads = (int)Lesson.Number(@"focused heads \(entropy below 75 % of uniform\): \d+ of (\d+)");
        Assert.True(heads >= 4, $"{heads} heads");
        var grid = Assert.Single(Lesson.Html, h => h.Contains("attention heads of the trained model") && h.Contains("data-kind=\"heatmap\""));
        Assert.Equal(heads, Regex.Matches(grid, "Plotly.newPlot").Count);
        var local = Regex.Match(Lesson.Printed, @"most local head: (L\d H\d)").Groups[1].Value;
        var enlarged = Assert.Single(Lesson.Html, h => h.Contains($"The most local head, {local}, on the validation line") && h.Contains("data-kind=\"heatmap\""));
        Assert.Contains("ticktext", enlarged);                    // the characters on its axes (the grid's thumbnails have none)
        Assert.DoesNotContain("ticktext", grid);
        var table = Assert.Single(Lesson.Html, h => h.Contains("<table") && h.Contains("entropy (nats)"));
        Assert.Equal(heads, Regex.Matches(table, "<tr>").Count - 1);
        // Training broke the uniform staircase of Lesson 26: at least one head focuses well below uniform.
        Assert.True(Lesson.Number(@"most local head: L\d H\d, mean distance " + Num) < 0.7 * Lesson.Number(@"uniform over the past: [\d.]+ nats, " + Num + " characters"));
        Assert.True(Lesson.Number(@"top-1 correct on this line: \d+ of \d+ \(" + Num) >= 10);   // chance: 1 in 65
        // The prose reads the previous-token score against its uniform value and prints a verdict instead of claiming one.
        Assert.Matches(@"strongest previous-character head: L\d H\d, previous = [\d.]+ \([\d.]+× uniform; a pure previous-token head would score 1\) → (a previous-token head|no head looks only one character back)", Lesson.Printed);
    }

    [LessonFact]
    public void Ships_a_smaller_file_that_reloads_exactly_and_the_command_line_agrees()
    {
        var checkpoint = Lesson.Number(@"training checkpoint \S+: " + Num + " MB");
        var shipped = Lesson.Number(@"shipped model +\S+: " + Num + " MB");
        Assert.True(shipped < checkpoint / 2, $"shipped {shipped} MB, checkpoint {checkpoint} MB");
        Assert.Equal(0, Lesson.Number(@"reload check: max \|logits\(shipped\) − logits\(original\)\| = " + Num));
        Assert.Contains("command: dotnet run --project lib/TransformerCourse.Cli -- sample --checkpoint runs/lesson28/mini-gpt.bin --prompt \"ROMEO:\"", Lesson.Printed);
        Assert.Contains("(exit code 0)", Lesson.Printed);
        Assert.Contains("command line == library in-process: True", Lesson.Printed);
        Assert.True(File.Exists(Path.Combine(ExecutedNotebook.RepoRoot, "runs", "lesson28", "mini-gpt.bin")));
    }

    [LessonFact]
    public void Ends_with_what_to_build_next_and_the_way_back_to_the_course_map()
    {
        var markdown = string.Concat(Lesson.Cells.Where(c => (string?)c["cell_type"] == "markdown").Select(c => c["source"]?.ToJsonString()));
        Assert.Contains("What to build next", markdown);
        Assert.Contains("](../01-attention-mechanism/01-the-attention-revolution.ipynb)", markdown);
        Assert.DoesNotContain("**Next:**", markdown);
    }

    [LessonFact]
    public void Exercises_fail_on_the_placeholders_and_pass_with_the_solutions()
    {
        Assert.Equal(3, Lesson.Count(Exercise.FailMark));
        Assert.Equal(3, Lesson.Count(Exercise.PassMark));
        foreach (var what in new[] { "your sampling distribution", "your greedy loop", "your ChunkMask" })
        {
            Assert.Contains($"{Exercise.FailMark}: {what}", Lesson.Printed);
            Assert.Contains($"{Exercise.PassMark}: {what}", Lesson.Printed);
        }
    }
}

/// <summary>The same facts about the lesson, asserted on the copy real Jupyter executed (kernel .net-csharp).</summary>
[InJupyter]
public class Lesson28InJupyter : Lesson28Tests
{
    protected override ExecutedNotebook Lesson
    {
        get
        {
            _ = Lesson27Tests.Lesson;   // the runner's lesson 27 trains and saves the model this lesson loads
            return ExecutedNotebook.RunInJupyter("06-capstone-mini-gpt/28-sampling-and-shipping.ipynb");
        }
    }
}
