using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 17 — Decoding Strategies.</summary>
public class Lesson17Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("04-gpt-decoders/17-decoding-strategies.ipynb");

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(2, "(18-kv-cache.ipynb)");
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        foreach (var cell in Lesson.Cells.Where(c => (string?)c["cell_type"] == "code"))
        {
            var printed = string.Concat(cell["outputs"]!.AsArray().Where(o => (string?)o!["output_type"] == "stream")
                .Select(o => o!["text"] is System.Text.Json.Nodes.JsonArray lines ? string.Concat(lines.Select(l => (string?)l)) : (string?)o["text"]));
            Assert.True(printed.TrimEnd().Split('\n').Length <= 13, printed);
            // The slide exporter splits a code cell longer than 20 lines; shown cells must fit one slide.
            bool hidden = (string?)cell["metadata"]?["slideshow"]?["slide_type"] == "skip";
            var code = string.Concat(cell["source"]!.AsArray().Select(l => (string?)l));
            Assert.True(hidden || code.TrimEnd().Split('\n').Length <= 20, code);
        }
    }

    double[] HandRow(string name)
    {
        var m = Regex.Match(Lesson.Printed, Regex.Escape(name) + @" +((?:[\d.]+ +){6})(\d)\n");
        Assert.True(m.Success, name + "\n" + Lesson.Printed);
        return m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Parse).ToArray();
    }

    [LessonFact]
    public void Hand_made_distributions_show_the_tie_rules_and_the_penalty_direction()
    {
        Assert.Contains("top-k 2 keeps 3 tokens: b and c tie at the boundary, so both stay; top-k 10 ≥ V = 6 keeps all 6", Lesson.Printed);
        var m = Regex.Match(Lesson.Printed, @"top-p 0.8 keeps 3: mass ([\d.]+) < 0.8 before the last kept token, ([\d.]+) ≥ 0.8 with it");
        Assert.True(m.Success, Lesson.Printed);
        Assert.True(Parse(m.Groups[1].Value) < 0.8 && Parse(m.Groups[2].Value) >= 0.8);
        var softmax = HandRow("softmax (τ 1)");
        var penalty = HandRow("penalty 2");
        Assert.True(penalty[0] < softmax[0] && penalty[4] < softmax[4], "a and e lose probability");
        Assert.All(new[] { 1, 2, 3, 5 }, i => Assert.True(penalty[i] > softmax[i], $"token {i} gains"));
        Assert.Equal(new double[] { 1, 0, 0, 0, 0, 0 }, HandRow("greedy"));
        Assert.Equal(softmax, HandRow("top-k 10"));
    }

    [LessonFact]
    public void Numerical_checks_pass()
    {
        Assert.Equal(4, Regex.Matches(Lesson.Printed, @"\(tolerance [\d.e-]+\): ok").Count);
        Assert.DoesNotContain("FAILED", Lesson.Printed);
        Assert.Contains("draws of tokens outside the nucleus: 0; same seed, same 20,000 draws: True", Lesson.Printed);
    }

    [LessonFact]
    public void The_trained_model_beats_its_baselines()
    {
        double loss = Lesson.Number(@"validation loss " + Num + " nats/char");
        double unigram = Lesson.Number(@"unigram model " + Num + ";");
        Assert.True(loss < unigram - 1.0, $"{loss} vs {unigram}");
        Assert.True(unigram < Math.Log(65));
        Assert.Matches(@"(loaded the cached model|trained it here).*236,256 parameters, 500 steps of batch 32", Lesson.Printed);
    }

    [LessonFact]
    public void One_step_distributions_behave_as_the_prose_says()
    {
        var rows = Regex.Matches(Lesson.Printed, @"(.+?) +keeps +(\d+) of 65 characters, entropy ([\d.-]+) nats, most likely '(.)' with ([\d.]+)")
            .ToDictionary(x => x.Groups[1].Value.Trim(), x => (Kept: int.Parse(x.Groups[2].Value), Entropy: Parse(x.Groups[3].Value), Top: x.Groups[4].Value));
        Assert.Equal(7, rows.Count);
        Assert.Equal(1, rows["greedy"].Kept);
        Assert.Equal(65, rows["τ 0.5"].Kept);
        Assert.Equal(65, rows["τ 1.5"].Kept);
        Assert.True(rows["τ 0.5"].Entropy < rows["τ 1 (model)"].Entropy && rows["τ 1 (model)"].Entropy < rows["τ 1.5"].Entropy, "sharpens and flattens");
        Assert.Equal(5, rows["top-k 5"].Kept);
        Assert.InRange(rows["top-p 0.9"].Kept, 2, 64);
        Assert.NotEqual(rows["τ 1 (model)"].Top, rows["penalty 1.5"].Top);   // "changes which character is most likely"
        // The heatmap leaves greedy's single 1 out so the colour scale shows the other rows.
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("What each setting samples from") && h.Contains("next character")
            && h.Contains("top-p 0.9") && !h.Contains("\"greedy\""));
        // On 65 characters the prompt already holds many of the likely next characters.
        var seen = Regex.Match(Lesson.Printed, @"the prompt holds (\d+) distinct characters of 65; under τ 1 they carry (\d+) ?% of the next character's probability");
        Assert.True(seen.Success, Lesson.Printed);
        Assert.InRange(int.Parse(seen.Groups[2].Value), 25, 100);
    }

    [LessonFact]
    public void Beam_search_beats_greedy_on_every_prompt()
    {
        Assert.Contains("beam above greedy on 16 of 16 prompts, equal on 0, below on 0", Lesson.Printed);
        Assert.True(Lesson.Number(@"beam \(width 4\) " + Num + " nats") > Lesson.Number(@"log-likelihood per character: greedy " + Num));
    }

    Dictionary<string, (double Distinct, double LogLik, double Repetition)> Grid()
    {
        var html = Lesson.Html.Single(h => h.Contains("<table") && h.Contains("distinct-4"));
        return Regex.Matches(html, @"<tr><td>([^<]+)</td><td>([-\d.]+)</td><td>([-\d.]+)</td><td>([-\d.]+)</td></tr>")
            .ToDictionary(x => WebUtility.HtmlDecode(x.Groups[1].Value), x => (Parse(x.Groups[2].Value), Parse(x.Groups[3].Value), Parse(x.Groups[4].Value)));
    }

    [LessonFact]
    public void Diversity_against_quality_shows_the_measured_trends()
    {
        var g = Grid();
        Assert.Equal(18, g.Count);
        var sampled = g.Where(r => r.Key is not ("real text" or "unigram samples")).ToList();
        // Temperature alone: distinct-4 rises and log-likelihood falls at each step.
        var plain = new[] { "τ 0.5", "τ 0.7", "τ 1", "τ 1.3" }.Select(n => g[n]).ToArray();
        Assert.True(plain.Zip(plain.Skip(1)).All(p => p.Second.Distinct > p.First.Distinct && p.Second.LogLik < p.First.LogLik));
        Assert.Contains("at each step of τ: distinct-4 rises True, log-likelihood falls True", Lesson.Printed);
        // Truncation at τ 1 and 1.3: higher log-likelihood, lower distinct-4.
        foreach (var t in new[] { "1", "1.3" })
            foreach (var cut in new[] { "top-k 10", "top-p 0.9" })
                Assert.True(g[$"τ {t}, {cut}"].LogLik > g[$"τ {t}"].LogLik && g[$"τ {t}, {cut}"].Distinct < g[$"τ {t}"].Distinct, $"τ {t}, {cut}");
        // Greedy and beam: the two most likely, the two most repetitive, the two least varied.
        string[] Top2(Func<(double Distinct, double LogLik, double Repetition), double> key) =>
            sampled.OrderByDescending(r => key(r.Value)).Take(2).Select(r => r.Key).Order().ToArray();
        Assert.Equal(["beam (width 4)", "greedy"], Top2(r => r.LogLik));
        Assert.Equal(["beam (width 4)", "greedy"], Top2(r => r.Repetition));
        Assert.Equal(["beam (width 4)", "greedy"], Top2(r => -r.Distinct));
        Assert.Contains("most likely text: beam (width 4)", Lesson.Printed);
        Assert.Contains("most repetitive: greedy", Lesson.Printed);
        // Real text is not the most likely: most settings beat it on likelihood.
        var real = g["real text"];
        int above = sampled.Count(r => r.Value.LogLik > real.LogLik);
        Assert.True(above > sampled.Count / 2, $"{above} of {sampled.Count}");
        Assert.Contains($"{above} of {sampled.Count} settings write text the model finds more likely than real text", Lesson.Printed);
        // The penalty roughly halves greedy's repetition, still far above real text; at τ 0.7 it acts like a higher temperature.
        var (gr, gp) = (g["greedy"], g["greedy, penalty 1.3"]);
        Assert.InRange(gp.Repetition / gr.Repetition, 0.3, 0.7);
        Assert.True(gp.Repetition > 10 * real.Repetition);
        Assert.True(g["τ 0.7, penalty 1.3"].Distinct > g["τ 0.7"].Distinct && g["τ 0.7, penalty 1.3"].LogLik < g["τ 0.7"].LogLik);
        // Unigram samples: the most varied and by far the least likely.
        var uni = g["unigram samples"];
        Assert.True(g.All(r => r.Key == "unigram samples" || (r.Value.Distinct < uni.Distinct && r.Value.LogLik > uni.LogLik + 1)));
        // At τ 1 truncation moves the likelihood above real text's.
        Assert.True(g["τ 1, top-k 10"].LogLik > real.LogLik && g["τ 1, top-p 0.9"].LogLik > real.LogLik);
        // E[ln p] = −H: τ 1's log-likelihood matches minus the model's entropy along its samples, and sits near real text.
        Assert.Matches(@"τ 1: log-lik -[\d.]+ vs −entropy -[\d.]+; gap [-+][\d.]+ \(tolerance 3 × s\.e\. = [\d.]+\): ok", Lesson.Printed);
        Assert.InRange(Math.Abs(g["τ 1"].LogLik - real.LogLik), 0, 0.1);
        // The chart zooms on the settings: the unigram point is printed but not plotted.
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"scatter\"") && h.Contains("Diversity against model likelihood") && h.Contains("distinct-4")
            && h.Contains("model log-likelihood per character") && h.Contains("real text") && !h.Contains("unigram"));
        Assert.DoesNotContain("quality:", string.Concat(Lesson.Html));
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your TopP — .*nothing was cut off.*PASS: your TopP.*NOT YET: your RepetitionPenalty — .*nothing changed for the tokens in the histories.*PASS: your RepetitionPenalty", Lesson.Printed);
    }
}
