using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 12 — Tokenization and Input Embeddings.</summary>
public class Lesson12Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("03-bert-encoders/12-tokenization-and-embeddings.ipynb");

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(3, "(13-bert-pretraining.ipynb)");
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void Words_are_shorter_than_characters_but_leave_unknown_words_and_characters_can_be_unknown_too()
    {
        var c = Regex.Match(Lesson.Printed, @"characters: vocabulary 65 \(from the training text\), held-out text [\d,]+ characters = ([\d,]+) tokens, of which (\d+) are characters never seen in training");
        Assert.True(c.Success, Lesson.Printed);
        var chars = Parse(c.Groups[1].Value);
        Assert.Equal("0", c.Groups[2].Value);   // "happens to cover this held-out text"
        Assert.Contains("'café naïve': 2 of its 10 characters have no id in the character vocabulary ('é', 'ï')", Lesson.Printed);
        var m = Regex.Match(Lesson.Printed, @"words: vocabulary ([\d,]+) \(from the training text\), held-out text = ([\d,]+) tokens, of which ([\d,]+) \(([\d.]+)%\) are \[UNK\]");
        Assert.True(m.Success, Lesson.Printed);
        Assert.True(chars / Parse(m.Groups[2].Value) >= 3, "several times shorter");
        Assert.True(Parse(m.Groups[4].Value) > 1, "a noticeable share of unknown words");
        Assert.Contains("pieces: KING | ␣RICHARD | ␣III | : | ↵ | Now | ␣is | ␣the | ␣winter | ␣of | ␣our | ␣discontent", Lesson.Printed);
    }

    [LessonFact]
    public void Bpe_training_reaches_2000_tokens_and_the_merges_behave_as_described()
    {
        Assert.Matches(@"trained 1744 merges on 1,003,854 characters in [\d.]+ s \(one run\); vocabulary 2,000", Lesson.Printed);
        Assert.Contains("merge  1: ", Lesson.Printed);
        Assert.Equal(19, Lesson.Number(@"of the first 20 merges, (\d+) join a space to a letter"));   // "19 of the first 20"
        Assert.Matches(@"merge 1743: ␣pro +\+ f +→ ␣prof", Lesson.Printed);
        Assert.Matches(@"merge 1744: ␣dis +\+ t +→ ␣dist", Lesson.Printed);
        Assert.True(Lesson.Number(@"of the last 100 merges, (\d+) make a token that starts with a space") > 50, "most late merges");
        var early = Lesson.Number(@"average token length: ([\d.]+) bytes for the first 100 merges");
        var late = Lesson.Number(@"bytes for the first 100 merges, ([\d.]+) bytes for the last 100");
        Assert.True(late > early + 1, "late merges make longer pieces");
        Assert.Contains("the counts never increase from one merge to the next: True", Lesson.Printed);
        Assert.Matches(@"merge \d+: ␣t +\+ he +→ ␣the", Lesson.Printed);
        var counts = Regex.Matches(Lesson.Printed, @"(\d+) tokens in the vocabulary: +(\d+) tokens").Select(x => (V: int.Parse(x.Groups[1].Value), N: int.Parse(x.Groups[2].Value))).ToList();
        Assert.Equal([256, 276, 356, 656, 2000], counts.Select(c => c.V));
        Assert.True(counts.Zip(counts.Skip(1)).All(p => p.Second.N < p.First.N), "longer vocabularies, fewer tokens");
    }

    [LessonFact]
    public void The_encoder_round_trips_matches_the_naive_reference_and_training_is_reproducible()
    {
        Assert.Contains("round trip: 7 of 7 awkward strings come back unchanged", Lesson.Printed);
        Assert.Contains("'中文' becomes 6 byte tokens", Lesson.Printed);
        Assert.Contains("fast encoder = merges applied one by one in rank order, on 3,000 held-out characters: True", Lesson.Printed);
        Assert.Contains("trained twice on the same text: same 1744 merges: True", Lesson.Printed);
    }

    [LessonFact]
    public void Gpt2_library_and_our_rebuild_agree_on_the_test_vector_and_all_of_shakespeare()
    {
        Assert.Contains("library ids: [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 1659, 617, 34680, 27271, 13]", Lesson.Printed);
        Assert.Contains("matches the expected ids: True", Lesson.Printed);
        Assert.Contains("as text:     [Hello] [,] [␣do] [␣you] [␣like] [␣tea] [?] [␣] [<|endoftext|>] [␣In] [␣the] [␣sun] [lit] [␣terr] [aces] [of] [␣some] [unknown] [Place] [.]", Lesson.Printed);
        Assert.Contains("our GPT-2: 50,257 ids, 50,000 merges recovered, special token <|endoftext|> = 50256", Lesson.Printed);
        Assert.Contains("our ids for the test sentence match the expected ids: True", Lesson.Printed);
        var m = Regex.Match(Lesson.Printed, @"Tiny Shakespeare \(1,115,394 characters\): library ([\d,]+) tokens, ours ([\d,]+) tokens; identical: True");
        Assert.True(m.Success, Lesson.Printed);
        Assert.Equal(m.Groups[1].Value, m.Groups[2].Value);
        Assert.InRange(Parse(m.Groups[1].Value), 300_000, 400_000);
        Assert.Contains("decoding our ids gives the text back: True", Lesson.Printed);
    }

    Dictionary<string, (double Vocab, double Tokens, double PerChar)> TableRows() =>
        Lesson.Html.Where(h => h.Contains("embedding parameters at d = 768")).SelectMany(h =>
                Regex.Matches(h, @"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td><td>([\d.]+)</td><td>(\d+)</td></tr>"))
            .ToDictionary(x => x.Groups[1].Value, x => (Parse(x.Groups[2].Value), Parse(x.Groups[3].Value), Parse(x.Groups[4].Value)));

    [LessonFact]
    public void Vocabulary_size_trades_against_sequence_length()
    {
        var rows = TableRows();
        Assert.Equal(8, rows.Count);
        Assert.Equal(1.0, rows["characters"].PerChar);
        Assert.Equal(1.0, rows["our BPE, 256"].PerChar);
        Assert.Equal(65, rows["characters"].Vocab);
        Assert.Contains("non-ASCII characters in the held-out text: 0", Lesson.Printed);
        var bpe = new[] { 256, 300, 500, 1000, 2000 }.Select(v => rows[$"our BPE, {v}"].PerChar).ToArray();
        Assert.True(bpe.Zip(bpe.Skip(1)).All(p => p.Second < p.First), "each step shortens the text");
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("38597376"));

        // Diminishing returns, judged per added merge (the steps add 44, 200, 500 and 1,000 merges).
        var steps = Regex.Matches(Lesson.Printed, @"our BPE +(\d+) → +(\d+): +(\d+) more merges save +([\d,]+) tokens = +([\d.]+) per added merge")
            .Select(x => (Added: Parse(x.Groups[3].Value), Saved: Parse(x.Groups[4].Value), PerMerge: Parse(x.Groups[5].Value))).ToList();
        Assert.Equal(new double[] { 44, 200, 500, 1000 }, steps.Select(s => s.Added));
        Assert.All(steps, s => Assert.Equal(s.Saved / s.Added, s.PerMerge, 0.06));
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.Second.PerMerge < p.First.PerMerge), "each added merge saves less");
        Assert.Equal(rows["our BPE, 256"].Tokens - rows["our BPE, 300"].Tokens, steps[0].Saved);

        // "the more tokens share the same text, the fewer training examples each one gets"
        var rare = Regex.Matches(Lesson.Printed, @"our BPE +(\d+), tokens counted on the training text: median ([\d,]+) occurrences per token; (\d+) of the [\d,]+ tokens occur fewer than 10 times \((\d+) byte values never occur\)")
            .ToDictionary(x => int.Parse(x.Groups[1].Value), x => (Median: Parse(x.Groups[2].Value), Rare: Parse(x.Groups[3].Value), Bytes: Parse(x.Groups[4].Value)));
        Assert.Equal(new[] { 500, 2000 }, rare.Keys);
        Assert.True(rare[2000].Median < rare[500].Median / 4, "far fewer examples per token");
        Assert.True(rare[2000].Rare - rare[2000].Bytes > rare[500].Rare - rare[500].Bytes + 50, "more rare tokens beyond the unused bytes");

        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Vocabulary size vs sequence length on held-out Shakespeare")
            && h.Contains("\"type\":\"log\"") && h.Contains("tokens per character") && h.Contains("vocabulary size (log scale)"));
    }

    [LessonFact]
    public void Merges_fit_the_text_they_were_learned_on_and_gpt2_is_only_modestly_shorter()
    {
        var rows = TableRows();
        var m = Regex.Match(Lesson.Printed, @"same 1,744 merges, held-out text: ours \(learned on Shakespeare\) ([\d,]+) tokens, GPT-2's first 1,744 \(learned on WebText\) ([\d,]+) tokens: GPT-2's need (\d+)% more");
        Assert.True(m.Success, Lesson.Printed);
        Assert.Equal(rows["our BPE, 2000"].Tokens, Parse(m.Groups[1].Value));
        Assert.True(Parse(m.Groups[2].Value) > Parse(m.Groups[1].Value) * 1.05, "with equal merges GPT-2's need clearly more tokens");
        Assert.True(rows["GPT-2"].PerChar < rows["our BPE, 2000"].PerChar && rows["GPT-2"].PerChar > rows["our BPE, 2000"].PerChar / 25, "GPT-2 shorter, far from 25x");
        Assert.Equal(25.1, Lesson.Number(@"all of GPT-2: " + Num + @"× our largest vocabulary"), 1);
        Assert.InRange(Lesson.Number(@"all of GPT-2: [\d.]+× our largest vocabulary, (\d+)% fewer tokens"), 5, 30);   // "only modestly fewer"
        Assert.True(rows["words (with [UNK])"].PerChar < rows["GPT-2"].PerChar, "words give the shortest sequences");
        Assert.InRange(Lesson.Number(@"words: " + Num + @"× our largest vocabulary"), 6.5, 7.5);   // "seven times larger"
    }

    [LessonFact]
    public void Bert_input_has_special_tokens_three_tables_and_passes_the_numerical_checks()
    {
        Assert.Contains("special tokens: [PAD] = 1000, [CLS] = 1001, [SEP] = 1002, [MASK] = 1003; vocabulary 1,004", Lesson.Printed);
        Assert.Matches(@"token +\[CLS\] +To +␣be +, +␣or +␣not +␣to +␣be +\[SEP\] +t\n", Lesson.Printed);
        Assert.Matches(@"token +hat +␣is +␣the +␣qu +est +ion +\[SEP\] +\[PAD\] +\[PAD\] +\[PAD\]\n", Lesson.Printed);
        Assert.Matches(@"segment +1 +1 +1 +1 +1 +1 +1 +0 +0 +0\n", Lesson.Printed);
        Assert.Matches(@"attended +yes +yes +yes +yes +yes +yes +yes +no +no +no\n", Lesson.Printed);
        Assert.Matches(@"2000 tokens in the vocabulary: +\d+ tokens .*\|␣that\|", Lesson.Printed);
        Assert.Contains("token    table: shape [1004, 64] = 64,256 parameters", Lesson.Printed);
        Assert.Contains("position table: shape [32, 64] = 2,048 parameters", Lesson.Printed);
        Assert.Contains("segment  table: shape [2, 64] = 128 parameters", Lesson.Printed);
        Assert.Contains("ids [1, 20] → input vectors [1, 20, 64]", Lesson.Printed);

        // The reading of the cosine-similarity picture.
        double same = Lesson.Number(@"the same token and segment: +" + Num + @" \(4 pairs\)");
        double segment = Lesson.Number(@"the same segment only: +" + Num);
        double nothing = Lesson.Number(@"nothing in common: +" + Num);
        Assert.True(same > segment + 0.15, "same token and segment are the most alike");
        Assert.True(segment > nothing + 0.15, "the same segment makes positions more alike");
        Assert.InRange(nothing, -0.1, 0.1);   // "close to unrelated"
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Cosine similarity of BERT") && h.Contains("position and token")
            && h.Contains("0 [CLS]") && h.Contains("19 [PAD]"));

        Assert.True(Lesson.Number(@"max \|lookup sum − one-hot products\| = " + Num) < 1e-6);
        Assert.True(Lesson.Number(@"max \|LayerNorm − \(h − μ\)/√\(σ² \+ ε\)\| = " + Num) < 1e-5);
        Assert.InRange(Lesson.Number(@"with BERT's ε = 1e-12 instead of 1e-5, the input vectors would change by at most " + Num), 1e-4, 0.1);
        Assert.True(Lesson.Number(@"in segment 0 and in segment 1 differs by " + Num) > 1e-3);
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(3, Lesson.Count(Exercise.FailMark));
        Assert.Equal(3, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your CountPairs — .*no pairs at all.*PASS: your CountPairs.*NOT YET: your MergePair — .*nothing was merged.*PASS: your MergePair"
            + @".*NOT YET: your TrainMerges — .*returns no merges.*PASS: your TrainMerges", Lesson.Printed);
    }
}

/// <summary>The same facts about the lesson, asserted on the copy real Jupyter executed (kernel .net-csharp).</summary>
[InJupyter]
public class Lesson12InJupyter : Lesson12Tests
{
    protected override ExecutedNotebook Lesson => ExecutedNotebook.RunInJupyter("03-bert-encoders/12-tokenization-and-embeddings.ipynb");
}
