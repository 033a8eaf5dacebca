using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 16 — Causal Language Modelling.</summary>
public class Lesson16Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("04-gpt-decoders/16-causal-language-modelling.ipynb");

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(3, "(17-decoding-strategies.ipynb)");
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void Only_the_decoder_only_pattern_never_sees_a_later_key()
    {
        Assert.Matches(@"encoder-only \(BERT\) +: 36 of 36 \(query, key\) pairs allowed; a query ever sees a later key: True", Lesson.Printed);
        Assert.Matches(@"decoder-only \(GPT\) +: 21 of 36 \(query, key\) pairs allowed; a query ever sees a later key: False", Lesson.Printed);
        Assert.Matches(@"encoder–decoder \(3 \+ 3\) +: 24 of 36 \(query, key\) pairs allowed; a query ever sees a later key: True", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Who may attend to whom") && h.Contains("sleeps") && h.Contains("dort"));
    }

    [LessonFact]
    public void The_shifted_loss_from_scratch_equals_the_model_loss_and_perplexity_agrees_both_ways()
    {
        Assert.Contains("48 tokens → logits [1, 48, 65] → 47 predictions", Lesson.Printed);
        Assert.Contains("position 0: has read \"F\", target 'i'", Lesson.Printed);
        Assert.True(Lesson.Number(@"\|difference\| = " + Num) < 1e-5);
        Assert.Contains("GptModel.Loss on the shifted pairs", Lesson.Printed);
        Assert.True(Lesson.Number(@"relative difference = " + Num) < 1e-5);
        Assert.Equal(2, Regex.Matches(Lesson.Printed, @"\(tolerance 1e-5: True\)").Count);
        var ratio = Lesson.Number(@"vs a uniform guess over V = 65 characters: ratio " + Num);
        Assert.InRange(ratio, 0.9, 1.1);   // "close to V … on either side"
    }

    [LessonFact]
    public void The_initial_loss_matches_ln_v_plus_half_sigma_squared_and_grows_with_width()
    {
        var rows = Regex.Matches(Lesson.Printed, @"d = +(\d+): σ² = " + Num + @" \(0\.02²·d = " + Num + @"\); predicted ln V \+ σ²/2 = " + Num + @"; measured " + Num + @" ± " + Num
                + @"; gap [-+][\d.]+ = [-+][\d.]+ standard errors; above ln V by " + Num)
            .Select(m => (D: Parse(m.Groups[1].Value), Var: Parse(m.Groups[2].Value), Rule: Parse(m.Groups[3].Value), Predicted: Parse(m.Groups[4].Value),
                Measured: Parse(m.Groups[5].Value), Se: Parse(m.Groups[6].Value), Above: Parse(m.Groups[7].Value))).ToList();
        Assert.Equal(new double[] { 64, 256, 768 }, rows.Select(r => r.D));
        Assert.All(rows, r => Assert.True(Math.Abs(r.Measured - r.Predicted) < 2 * r.Se + 1e-4, $"d = {r.D}"));
        Assert.All(rows, r => Assert.InRange(r.Var / r.Rule, 0.7, 1.5));   // σ² ≈ 0.02²·d
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.Second.Above > p.First.Above && p.Second.Var > p.First.Var), "the excess grows with the width");
        Assert.Contains("the prediction is within 2 standard errors at every width: True", Lesson.Printed);
    }

    [LessonFact]
    public void Training_takes_the_loss_from_ln_v_to_below_every_baseline()
    {
        Assert.Contains("below ln V: True; below the unigram model: True; below the bigram model: True", Lesson.Printed);
        double start = Lesson.Number(@"validation loss: step 0 = " + Num), end = Lesson.Number(@"step 300 = " + Num);
        Assert.InRange(start - Math.Log(65), -0.05, 0.05);   // "starts at ln V"
        Assert.True(end < start - 1);
        var ppl = Lesson.Number(@"validation perplexity e\^loss = " + Num);
        Assert.True(ppl < Lesson.Number(@"bigram " + Num + @"\)"));
        Assert.Equal(Math.Exp(end), ppl, 0.1);
        Assert.True(Lesson.FigureCount("line") >= 1);
        Assert.Contains(Lesson.Html, h => h.Contains("Next-token loss of a tiny char GPT") && h.Contains("uniform: ln V") && h.Contains("bigram") && h.Contains("loss (nats per character)"));
    }

    [LessonFact]
    public void Weight_tying_saves_v_times_d_a_small_share_for_characters_and_a_large_one_for_gpt2()
    {
        var lines = Regex.Matches(Lesson.Printed, @"tying saves ([\d,]+) = V·d: True \(" + Num + " %")
            .Select(m => (Saved: Parse(m.Groups[1].Value), Share: Parse(m.Groups[2].Value))).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(65 * 64, lines[0].Saved);
        Assert.Equal(50_257 * 64, lines[1].Saved);
        Assert.True(lines[0].Share < 5, "a small share with 65 characters");
        Assert.True(lines[1].Share > 40, "a large share with GPT-2's vocabulary");
        Assert.InRange(Lesson.Number(@"at its real width d = 768: tying saves 38,597,376 parameters, " + Num + " %"), 20, 30);   // "still large"
    }

    [LessonFact]
    public void Closed_form_counts_match_built_modules_and_published_sizes()
    {
        Assert.Equal(6, Regex.Matches(Lesson.Printed, @"at d = 64: closed form +[\d,]+, built module +[\d,]+, equal: True").Count);
        Assert.Contains("with 1, 4 and 16 heads: 3,881,920, 3,881,920, 3,881,920; all equal: True", Lesson.Printed);
        var rows = Regex.Matches(Lesson.Printed, @"(GPT-[^:]+?) *: exact +([\d,]+) \(quoted ([\d.]+[MB]), rounds to it: (True|False)\); 12·L·d² misses " + Num + @" % of the non-embedding count, 13/\(12d \+ 13\) = " + Num + " %")
            .ToDictionary(m => m.Groups[1].Value, m => (Exact: Parse(m.Groups[2].Value), Rounds: m.Groups[4].Value == "True", Miss: Parse(m.Groups[5].Value), Share: Parse(m.Groups[6].Value)));
        Assert.Equal(6, rows.Count);
        Assert.Equal(124_439_808, rows["GPT-2 small"].Exact);
        Assert.Equal(1_557_611_200, rows["GPT-2 XL"].Exact);
        Assert.All(rows.Where(r => r.Key != "GPT-3 175B"), r => Assert.True(r.Value.Rounds, r.Key));
        Assert.False(rows["GPT-3 175B"].Rounds);
        Assert.InRange(rows["GPT-3 175B"].Exact / 175.0e9, 0.995, 0.999);   // "a quarter of a percent below"
        Assert.All(rows.Values, r => Assert.Equal(r.Share, r.Miss, 0.01));  // "the two printed percentages agree"
        Assert.All(rows.Values, r => Assert.True(r.Miss < 1));
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("174604259328") && h.Contains("-31.7%") && h.Contains("12·L·d² vs non-embedding".Replace("·", "&#183;").Replace("²", "&#178;")));
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"bar\"") && h.Contains("Where the parameters of the published GPTs are") && h.Contains("share of all parameters"));
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(3, Lesson.Count(Exercise.FailMark));
        Assert.Equal(3, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your ShiftedLoss — it still returns 0.*PASS: your ShiftedLoss.*NOT YET: your CorpusPerplexity — it still returns 0.*PASS: your CorpusPerplexity"
            + @".*NOT YET: your CountParameters — it still returns 0.*PASS: your CountParameters", Lesson.Printed);
    }
}

/// <summary>The same facts about the lesson, asserted on the copy real Jupyter executed (kernel .net-csharp).</summary>
[InJupyter]
public class Lesson16InJupyter : Lesson16Tests
{
    protected override ExecutedNotebook Lesson => ExecutedNotebook.RunInJupyter("04-gpt-decoders/16-causal-language-modelling.ipynb");
}
