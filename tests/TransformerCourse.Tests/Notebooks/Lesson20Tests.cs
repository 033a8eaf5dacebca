using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 20 — In-Context Learning and Instruction Tuning.</summary>
public class Lesson20Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("04-gpt-decoders/20-in-context-learning.ipynb");

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(2, "(21-rlhf.ipynb)");
        Assert.Contains("(19-scaling-laws.ipynb)", string.Concat(Lesson.Cells.ElementAt(2)["source"]!.AsArray().Select(l => (string?)l)));
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void Example_sequences_repeat_their_segment()
    {
        var rows = Regex.Matches(Lesson.Printed, @"L = +(\d+): ([a-zA-Z]*) \[([a-zA-Z]+)\] \[([a-zA-Z]+)\]");
        Assert.Equal(4, rows.Count);
        foreach (Match r in rows)
        {
            int l = int.Parse(r.Groups[1].Value);
            Assert.Equal(r.Groups[3].Value, r.Groups[4].Value);
            Assert.Equal(l, r.Groups[3].Value.Length);
        }
        Assert.Equal(Math.Log(52), Lesson.Number(@"a uniform guess costs ln V = " + Num), 3);
    }

    [LessonFact]
    public void Two_layers_learn_the_second_copy_and_one_layer_does_not()
    {
        double lnV = Math.Log(52);
        var runs = Regex.Matches(Lesson.Printed, @"(\d)-layer: [\d,]+ parameters, \d+ steps in +[\d.]+ s; loss on copy 1 ([\d.]+), on copy 2 ([\d.]+) nats")
            .ToDictionary(m => m.Groups[1].Value, m => (First: Parse(m.Groups[2].Value), Second: Parse(m.Groups[3].Value)));
        Assert.Equal(2, runs.Count);
        var (two, one) = (runs["2"], runs["1"]);
        // "Both models pay a little more than ln V on the first copy."
        Assert.All(new[] { two.First, one.First }, f => Assert.InRange(f, lnV, lnV + 0.3));
        // "far below": the 2-layer model's copy-2 loss is below a fifth of its copy-1 loss.
        Assert.True(two.Second < 0.2 * two.First, $"2-layer copy 2 {two.Second} vs copy 1 {two.First}");
        // The 1-layer control stays far above it (measured, printed with a verdict).
        Assert.True(one.Second > 3 * two.Second, $"1-layer copy 2 {one.Second} vs 2-layer {two.Second}");
        Assert.True(one.Second > lnV / 2, $"1-layer copy 2 {one.Second} falls only part of the way");
        Assert.Contains("2-layer copy 2 below a fifth of its copy 1: yes; 1-layer copy 2 over 3× the 2-layer's: yes", Lesson.Printed);
        Assert.Matches(@"1-layer: copy-2 loss below half of ln V \([\d.]+\): [^;]+; below 0.5 nats: not within \d+ steps", Lesson.Printed);
        Assert.Matches(@"2-layer: copy-2 loss below half of ln V \([\d.]+\): first at step \d+; below 0.5 nats: first at step \d+", Lesson.Printed);
        // "how abruptly ... drift down slowly side by side ... then the two-layer model finds the induction circuit"
        var drop = Regex.Match(Lesson.Printed, @"2-layer copy-2 loss around the drop: ([\d.]+) \(step \d+\)((?: → [\d.]+ \(step \d+\)){3}); 1-layer at step \d+: ([\d.]+)");
        Assert.True(drop.Success, "the losses around the drop are printed");
        double beforeDrop = Parse(drop.Groups[1].Value), oneThen = Parse(drop.Groups[3].Value);
        double threeLater = Parse(Regex.Matches(drop.Groups[2].Value, @"→ ([\d.]+)")[^1].Groups[1].Value);
        Assert.True(Math.Abs(beforeDrop - oneThen) < 0.3, $"side by side before the drop: {drop.Value}");
        Assert.True(beforeDrop > lnV / 2 && threeLater < beforeDrop / 3, $"abrupt: {drop.Value}");
    }

    [LessonFact]
    public void Loss_along_the_sequence_drops_on_the_second_copy_for_two_layers_only()
    {
        var rows = Regex.Matches(Lesson.Printed, @"(\d)-layer: positions 13–21 \(copy 1\) ([\d.]+), position 22 \(first of copy 2\) ([\d.]+), positions 23–31 \(copy 2\) ([\d.]+)")
            .ToDictionary(m => m.Groups[1].Value, m => (Copy1: Parse(m.Groups[2].Value), First2: Parse(m.Groups[3].Value), Copy2: Parse(m.Groups[4].Value)));
        Assert.Equal(2, rows.Count);
        // "For the two-layer model, position 22 costs about ln V ... from position 23 on its loss collapses."
        Assert.InRange(rows["2"].First2, Math.Log(52) - 0.4, Math.Log(52) + 0.4);
        Assert.True(rows["2"].Copy2 < 0.5, $"2-layer copy 2: {rows["2"].Copy2}");
        // "The one-layer model's loss drops only part of the way, and already at position 22."
        Assert.True(rows["1"].Copy2 > 1.5 && rows["1"].Copy2 < rows["1"].Copy1 - 0.5, $"1-layer: {rows["1"]}");
        Assert.True(rows["1"].First2 < rows["1"].Copy1 - 0.5, $"1-layer: {rows["1"]}");
        Assert.Equal(2, Lesson.FigureCount("line"));
    }

    [LessonFact]
    public void Induction_and_previous_token_heads_are_found_in_the_two_layer_model_only()
    {
        double uniform = Lesson.Number(@"uniform causal attention scores " + Num);
        Assert.InRange(uniform, 0.02, 0.1);
        var two = Regex.Match(Lesson.Printed, @"2-layer: best induction head layer (\d), head \d: ([\d.]+); best previous-token head layer (\d), head \d: ([\d.]+)");
        Assert.True(two.Success);
        Assert.Equal("2", two.Groups[1].Value);                  // the induction head sits in the second layer
        Assert.True(Parse(two.Groups[2].Value) > 0.5);
        Assert.Equal("1", two.Groups[3].Value);                  // the previous-token head in the first
        Assert.True(Parse(two.Groups[4].Value) > 0.5);
        // "all four heads of its second layer became induction heads ... one clear previous-token head and shares part of the job"
        var every = Regex.Match(Lesson.Printed, @"2-layer, every head: induction scores in layer 2 ([\d., ]+); previous-token scores in layer 1 ([\d., ]+)");
        Assert.True(every.Success);
        var induction = every.Groups[1].Value.Split(", ").Select(Parse).ToArray();
        var previous = every.Groups[2].Value.Split(", ").Select(Parse).ToArray();
        Assert.True(induction.Length == 4 && induction.All(v => v > 0.5), every.Value);
        Assert.True(previous.Count(v => v > 0.5) == 1 && previous.Count(v => v > 0.25) >= 2, every.Value);
        double one = Lesson.Number(@"1-layer: best induction head head \d: " + Num);
        Assert.True(one < 0.3, $"1-layer best induction score {one}");
        Assert.Contains("an induction head (score > 0.5) formed: 2-layer yes, 1-layer no", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("induction score") && h.Contains("2-layer · layer 2") && h.Contains("head 4"));
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("(induction)") && h.Contains("(previous token)"));
        // "most rows put their weight just left of the diagonal, but not the last ones"
        var rows = Regex.Match(Lesson.Printed, @"previous-token head: (\d+) of 31 rows put more than 0.5 on key i − 1; rows 26–31: (\d) of 6 do not, rows 1–25: (\d+)");
        Assert.True(rows.Success, "the previous-token rows are counted");
        Assert.True(int.Parse(rows.Groups[1].Value) >= 22, rows.Value);
        Assert.True(int.Parse(rows.Groups[2].Value) >= 4 && int.Parse(rows.Groups[3].Value) <= 2, rows.Value);
        Assert.Equal(2, Regex.Matches(Lesson.Printed, @"logits rebuilt from the traced weights vs the fused forward pass: max gap [\d.E+-]+ \(tolerance 1e-4: agree\)").Count);
    }

    [LessonFact]
    public void Masked_loss_matches_the_builtin_and_ignores_masked_positions()
    {
        Assert.Contains("positions are scored (· = label −100)", Lesson.Printed);
        Assert.Matches(@"input +r +e +v +e +r +s +e +: +  +l +a +m +p +=", Lesson.Printed);
        Assert.Matches(@"label( +·){13} +p +m +a +l +\.", Lesson.Printed);
        Assert.True(Lesson.Number(@"vs built-in ignore_index [\d.]+: gap " + Num) < 1e-5);
        Assert.Contains("(tolerance 1e-5: agree)", Lesson.Printed);
        Assert.Equal(0.0, Lesson.Number(@"ignored positions change the loss by " + Num));
        Assert.Equal(0.0, Lesson.Number(@"largest gradient at ignored positions " + Num));
        Assert.True(Lesson.Number(@"at scored positions " + Num) > 0);
    }

    [LessonFact]
    public void Fine_tuning_beats_the_base_model_and_the_copy_baseline()
    {
        var lines = Regex.Matches(Lesson.Printed, @"(copy the input|base model|after SFT) +reverse +([\d.]+)%  sort +([\d.]+)%  upper +([\d.]+)%  all +([\d.]+)%")
            .ToDictionary(m => m.Groups[1].Value, m => Enumerable.Range(2, 4).Select(g => Parse(m.Groups[g].Value)).ToArray());
        Assert.Equal(3, lines.Count);
        Assert.All(lines["copy the input"], v => Assert.True(v <= 15));
        Assert.True(lines["base model"][3] < 10, "the base model does not follow instructions");
        Assert.True(lines["after SFT"][3] > 70, $"SFT exact match {lines["after SFT"][3]}");
        // "Reverse and upper come out right on at least 95% of them here; sort less often."
        Assert.True(lines["after SFT"][0] >= 95 && lines["after SFT"][2] >= 95, string.Join(", ", lines["after SFT"]));
        Assert.True(lines["after SFT"][1] < Math.Min(lines["after SFT"][0], lines["after SFT"][2]));
        Assert.Contains("after SFT above both the base model and the copy baseline on every task: yes", Lesson.Printed);
        double before = Lesson.Number(@"held-out response loss: base " + Num), after = Lesson.Number(@"→ after SFT " + Num);
        Assert.True(after < before / 3, $"response loss {before} → {after}");
        // "On the held-out responses it does worse than a uniform guess."
        Assert.True(before > Math.Log(56), $"base response loss {before} vs ln 56");
        // "The base model's training loss ends close to the entropy of its text."
        double entropy = Lesson.Number(@"entropy of the pretraining text, \(8 ln 26 \+ ln 3\) / 10 = " + Num);
        Assert.Equal((8 * Math.Log(26) + Math.Log(3)) / 10, entropy, 3);
        Assert.InRange(Lesson.Number(@"the base model is " + Num + " above it"), -0.05, 0.25);
        // "no held-out word is ever a fine-tuning example ... a few turn up [in the pretraining text] by chance"
        var split = Regex.Match(Lesson.Printed, @"held-out words on the fine-tuning side of the split: (\d+) of (\d+); in the pretraining text by chance: (\d+)");
        Assert.True(split.Success);
        Assert.Equal("0", split.Groups[1].Value);
        Assert.InRange(int.Parse(split.Groups[3].Value), 1, 15);
        // The sort example shown changes the letters.
        var sort = Regex.Match(Lesson.Printed, @"training pair:  ""sort: ([a-z]{4})="" → ""([a-z]{4})\.""");
        Assert.True(sort.Success && sort.Groups[1].Value != sort.Groups[2].Value, sort.Value);
        Assert.True(Lesson.Number(@"training loss \(last 50 steps\) " + Num) < Math.Log(56));
        Assert.Equal(1, Lesson.FigureCount("bar"));
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("after SFT") && h.Contains("reverse: "));
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your InductionScore — .*returns 0.*PASS: your InductionScore.*NOT YET: your ResponseLabels — .*placeholder.*PASS: your ResponseLabels",
            Lesson.Printed);
    }
}
