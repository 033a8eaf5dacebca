using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 13 — BERT Pretraining.</summary>
public class Lesson13Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("03-bert-encoders/13-bert-pretraining.ipynb");

    /// <summary>A printed number that may carry thousands separators.</summary>
    double Big(string pattern)
    {
        var m = Regex.Match(Lesson.Printed, pattern);
        Assert.True(m.Success, $"'{pattern}' not found in:\n{Lesson.Printed}");
        return double.Parse(m.Groups[1].Value.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
    }

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(2, "(14-fine-tuning-bert.ipynb)");
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void Masking_follows_15_percent_and_80_10_10_and_never_touches_special_tokens()
    {
        Assert.Contains("vocabulary 404: 400 BPE tokens + [PAD] = 400, [CLS] = 401, [SEP] = 402, [MASK] = 403", Lesson.Printed);
        var rate = Lesson.Number(@"maskable tokens = " + Num + @"% \(expected 15% ± " );
        var band = Lesson.Number(@"\(expected 15% ± " + Num + " points at 4 sd");
        Assert.InRange(rate, 15 - band, 15 + band);
        Assert.InRange(Lesson.Number(@"of the chosen: \[MASK\] " + Num + "%"), 79, 81);
        Assert.InRange(Lesson.Number(@"random token " + Num + "%"), 9.3, 10.7);
        Assert.InRange(Lesson.Number(@"unchanged " + Num + "%"), 9.3, 10.7);
        Assert.Matches(@"\[CLS\], \[SEP\] or \[PAD\] chosen: 0 of [\d,]+", Lesson.Printed);
        Assert.Contains("dynamic masks identical: False; static masks identical: True", Lesson.Printed);
        // The example: the label line shows the original token exactly where the input was corrupted or chosen.
        var original = Regex.Match(Lesson.Printed, @"original: (.*)\n").Groups[1].Value.Split(' ');
        var input = Regex.Match(Lesson.Printed, @"input: +(.*)\n").Groups[1].Value.Split(' ');
        var label = Regex.Match(Lesson.Printed, @"label: +(.*)\n").Groups[1].Value.Split(' ');
        Assert.Equal(original.Length, label.Length);
        Assert.Equal(original.Length, input.Length);
        Assert.Contains(label, l => l != "·");
        for (int i = 0; i < label.Length; i++)
        {
            if (label[i] == "·") Assert.Equal(original[i], input[i]);
            else Assert.Equal(original[i], label[i]);
        }
    }

    [LessonFact]
    public void Nsp_pairs_are_half_and_half()
    {
        Assert.InRange(Lesson.Number(@"IsNext share: " + Num + "%"), 49, 51);
        Assert.Equal(4, Regex.Matches(Lesson.Printed, @"(IsNext |NotNext)  A: ").Count);
    }

    [LessonFact]
    public void The_model_is_tied_and_starts_at_ln_V_and_ln_2()
    {
        var total = Big(@"d_ff 512: ([\d,]+) parameters");
        var sum = Big(@"\(sum ([\d,]+)\)");
        Assert.Equal(total, sum);
        Assert.Contains("within 0.05: True)\nNSP loss at initialisation", Lesson.Printed);
        Assert.Matches(@"NSP loss at initialisation [\d.]+ vs ln 2 = 0.693 \(within 0.05: True\)", Lesson.Printed);
        Assert.Contains("1 matrix of 404 rows in the whole model", Lesson.Printed);
        Assert.InRange(Lesson.Number(@"would add V·d = [\d,]+ parameters \((\d+)% more\)"), 5, 20);
    }

    [LessonFact]
    public void Mlm_is_split_by_corruption_type_against_its_baselines_and_nsp_barely_moves()
    {
        var accuracy = Lesson.Number(@"MLM all scored positions: accuracy " + Num);
        var parts = Regex.Matches(Lesson.Printed, @"MLM at (Mask|Random|Unchanged) +positions \( *([\d,]+) tokens\): accuracy ([\d.]+), top-5 ([\d.]+); unigram ([\d.]+), copy-or-unigram ([\d.]+)")
            .Select(m => (Kind: m.Groups[1].Value, Tokens: long.Parse(m.Groups[2].Value.Replace(",", "")), Accuracy: double.Parse(m.Groups[3].Value),
                Top5: double.Parse(m.Groups[4].Value), Unigram: double.Parse(m.Groups[5].Value), Copy: double.Parse(m.Groups[6].Value))).ToList();
        Assert.Equal(["Mask", "Random", "Unchanged"], parts.Select(p => p.Kind));
        long total = parts.Sum(p => p.Tokens);
        Assert.Equal(total, Big(@"on ([\d,]+) held-out masked tokens"));
        Assert.InRange((double)parts[0].Tokens / total, 0.77, 0.83);      // the 80/10/10 rule on the held-out masks
        // The parts add up to the overall accuracy; the baselines behave as defined (copy is exact where the token is
        // visible, useless where it was replaced, and the unigram guess where the input is [MASK]).
        Assert.Equal(accuracy, parts.Sum(p => p.Accuracy * p.Tokens) / total, 0.002);
        Assert.All(parts, p => Assert.True(p.Top5 >= p.Accuracy, p.Kind));
        Assert.Equal(parts[0].Unigram, parts[0].Copy, 0.0005);
        Assert.Equal(0.0, parts[1].Copy, 0.0005);
        Assert.Equal(1.0, parts[2].Copy, 0.0005);
        var headline = Regex.Match(Lesson.Printed, @"headline, \[MASK\] positions only: accuracy ([\d.]+) vs unigram ([\d.]+): ([\d.]+)× \(clearly above, at least 1.5×: (True|False)\)");
        Assert.True(headline.Success, Lesson.Printed);
        double atMask = double.Parse(headline.Groups[1].Value), unigram = double.Parse(headline.Groups[2].Value);
        Assert.Equal(parts[0].Accuracy, atMask, 0.0005);
        Assert.Equal(atMask / unigram, double.Parse(headline.Groups[3].Value), 0.02);
        Assert.Equal(atMask >= 1.5 * unigram, headline.Groups[4].Value == "True");
        // The context baselines: each reads a real neighbour, so each beats the context-free unigram guess; the count is right.
        var context = Regex.Match(Lesson.Printed, @"context baselines at the same \[MASK\] positions: left neighbour's most frequent successor ([\d.]+), right neighbour's most frequent predecessor ([\d.]+), both neighbours ([\d.]+); the model beats (\d) of the 3");
        Assert.True(context.Success, Lesson.Printed);
        double[] lookups = [double.Parse(context.Groups[1].Value), double.Parse(context.Groups[2].Value), double.Parse(context.Groups[3].Value)];
        Assert.All(lookups, b => Assert.InRange(b, 1.3 * unigram, 0.6));
        Assert.True(lookups[2] > Math.Max(lookups[0], lookups[1]), "both neighbours together should beat either alone");
        Assert.Equal(lookups.Count(b => atMask > b), int.Parse(context.Groups[4].Value));
        Assert.Contains("unigram baseline: always guess the most frequent training token ','", Lesson.Printed);
        Assert.Contains("recipe: 1000 steps of 64 pairs, AdamW at peak learning rate 0.002 after 50 warm-up steps", Lesson.Printed);
        Assert.InRange(Lesson.Number(@"vs unigram cross-entropy " + Num), 3.0, Math.Log(404));
        // The curve: accuracy rises from ~0 at step 0 to the final value; the printed points match the final score.
        var steps = Regex.Matches(Lesson.Printed, @"step +(\d+): held-out MLM loss ([\d.]+), MLM accuracy ([\d.]+), NSP accuracy ([\d.]+)")
            .Select(m => (Step: int.Parse(m.Groups[1].Value), Loss: double.Parse(m.Groups[2].Value), Mlm: double.Parse(m.Groups[3].Value))).ToList();
        Assert.Equal([0, 200, 400, 600, 800, 1000], steps.Select(s => s.Step));
        Assert.InRange(steps[0].Loss, Math.Log(404) - 0.1, Math.Log(404) + 0.1);
        Assert.True(steps[0].Mlm < 0.01);
        Assert.Equal(accuracy, steps[^1].Mlm, 0.0011);
        // "the model beats the unigram guess clearly but none of the three lookups yet"
        Assert.Contains("clearly above, at least 1.5×: True", Lesson.Printed);
        Assert.Equal(0, int.Parse(context.Groups[4].Value));
        // "the loss fell by less than 0.1 nats per 200 steps in the middle of the run, then the fall sped up again over the
        // last 400 steps, where the accuracy curve bends upwards"
        var drops = Regex.Matches(Lesson.Printed, @"(\d+)→(\d+): ([-\d.]+)").Select(m => double.Parse(m.Groups[3].Value)).ToList();
        Assert.Equal(5, drops.Count);
        Assert.True(drops[1] < 0.1 && drops[2] < 0.1, string.Join(", ", drops));
        Assert.True(Math.Min(drops[3], drops[4]) > Math.Max(drops[1], drops[2]), string.Join(", ", drops));
        Assert.True(steps[5].Mlm - steps[3].Mlm > 2 * (steps[3].Mlm - steps[1].Mlm), "the accuracy curve bends upwards in the last 400 steps");
        // "its held-out loss ends within 0.01 of ln 2, and its accuracy is at most a few points above chance"
        Assert.InRange(Lesson.Number(@"NSP loss: " + Num + " at the end"), Math.Log(2) - 0.01, Math.Log(2) + 0.01);
        // "its accuracy, a few points above chance, is outside the 95 % band around it"
        Assert.InRange(Lesson.Number(@"NSP: accuracy " + Num + " on"), 0.5, 0.58);
        Assert.Contains("within the 95% band: False", Lesson.Printed);
        Assert.True(total > 3000);
        // "more than ten thousand times as many" tokens for BERT-base (0.9·1e6·256·128 + 0.1·1e6·256·512 ≈ 4.3e10)
        Assert.Contains("= 4.3E+010 token slots", Lesson.Printed);
        Assert.InRange(Lesson.Number(@"token slots, " + Num + " times more"), 1e4, 1e5);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Held-out accuracy during pretraining") && h.Contains("unigram baseline (MLM)") && h.Contains("copy-or-unigram baseline (MLM)") && h.Contains("held-out accuracy"));
    }

    [LessonFact]
    public void Fill_in_the_blank_lists_five_candidates_with_probabilities()
    {
        var lines = Regex.Matches(Lesson.Printed, @"\n   ((?:\S+ [01]\.\d\d  ){4}\S+ [01]\.\d\d)\n").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(3, lines.Count);
        foreach (var line in lines)
        {
            var probabilities = Regex.Matches(line, @" ([01]\.\d\d)(?:  |$)").Select(m => double.Parse(m.Groups[1].Value)).ToList();
            Assert.Equal(5, probabilities.Count);
            Assert.True(probabilities.Zip(probabilities.Skip(1)).All(p => p.First >= p.Second), line);
            Assert.True(probabilities.Sum() <= 1.02, line);
        }
        // "its first guesses are frequent short pieces ... each with a probability of only a few per cent, and none of the true words is among its five candidates"
        Assert.Contains("the true word is the first guess for 0 of 3 lines and among the top 5 for 0 of 3; first guesses: ", Lesson.Printed);
        var guesses = Regex.Match(Lesson.Printed, @"first guesses: (.*)\n").Groups[1].Value.Split(' ');
        Assert.Equal(3, guesses.Length);
        Assert.All(guesses, g => Assert.True(g.TrimStart('␣').Length <= 2, $"'{g}' is not a short piece"));
        Assert.All(lines, line => Assert.InRange(double.Parse(line.Split(' ')[1]), 0.01, 0.10));
    }

    [LessonFact]
    public void Head_view_draws_every_head_with_tokens_on_the_axes()
    {
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Attention of the pretrained mini-BERT")
            && h.Contains("layer 2, head 4") && h.Contains("0 [CLS]") && h.Contains("[SEP]"));
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("on [CLS]/[SEP]") && h.Contains("layer 2, head 4"));
        // "no head puts more than half its weight on a neighbouring token or on [CLS]/[SEP]; even the most peaked head spreads most of each row"
        Assert.Contains("heads with more than half their weight on the previous or the next token: 0 of 8", Lesson.Printed);
        Assert.Contains("heads with more than half their weight on [CLS]/[SEP]: 0 of 8", Lesson.Printed);
        Assert.True(Lesson.Number(@"whose rows put " + Num + " on their favourite key") < 0.5);
        // "Two heads of layer 2 lean towards the previous token, several times the uniform share"
        var table = Lesson.Html.First(h => h.Contains("<table") && h.Contains("on previous"));
        var layer2 = Regex.Matches(table, @"<td>layer 2, head \d</td><td>[\d.]+</td><td>([\d.]+)</td><td>([\d.]+)</td><td>([\d.]+)</td>")
            .Select(m => (Self: double.Parse(m.Groups[1].Value), Previous: double.Parse(m.Groups[2].Value), Next: double.Parse(m.Groups[3].Value))).ToList();
        Assert.Equal(4, layer2.Count);
        double uniformShare = Lesson.Number(@"would give " + Num + " to each key");
        var leaning = layer2.Where(h => h.Previous > 5 * uniformShare).ToList();
        Assert.Equal(2, leaning.Count);
        Assert.All(leaning, h => Assert.True(h.Self < h.Previous && h.Next < h.Previous, $"{h}: 'a little less on themselves and on the next token'"));
    }

    [LessonFact]
    public void The_numerical_check_passes()
    {
        Assert.True(Lesson.Number(@"\|difference\| = " + Num) < 1e-4);
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your MaskTokens — no position is ever chosen.*PASS: your MaskTokens.*NOT YET: your TiedOutput — it returns all zeros.*PASS: your TiedOutput", Lesson.Printed);
    }
}
