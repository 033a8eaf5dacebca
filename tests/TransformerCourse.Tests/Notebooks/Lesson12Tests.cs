using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 12 — Tokenization and Input Embeddings.</summary>
public class Lesson12Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("03-bert-encoders/12-tokenization-and-embeddings.ipynb");

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [Fact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Assert.All(Lesson.Cells, c => Assert.NotNull((string?)c["metadata"]?["slideshow"]?["slide_type"]));
        var solutions = Lesson.Cells.Where(c => c["metadata"]?["tags"]?.AsArray().Any(t => (string?)t == "solution") == true).ToList();
        Assert.Equal(2, solutions.Count);
        Assert.All(solutions, c => Assert.True((bool?)c["metadata"]?["jupyter"]?["source_hidden"] == true));
        var last = string.Concat(Lesson.Cells.Last()["source"]!.AsArray().Select(l => (string?)l));
        Assert.Contains("(13-bert-pretraining.ipynb)", last);
    }

    [Fact]
    public void Words_are_shorter_than_characters_but_leave_unknown_words()
    {
        var c = Regex.Match(Lesson.Printed, @"characters: vocabulary 65, held-out text [\d,]+ characters = ([\d,]+) tokens");
        Assert.True(c.Success, Lesson.Printed);
        var chars = Parse(c.Groups[1].Value);
        var m = Regex.Match(Lesson.Printed, @"words: vocabulary ([\d,]+), held-out text = ([\d,]+) tokens, of which ([\d,]+) \(([\d.]+)%\) are \[UNK\]");
        Assert.True(m.Success, Lesson.Printed);
        Assert.True(chars / Parse(m.Groups[2].Value) >= 3, "several times shorter");
        Assert.True(Parse(m.Groups[4].Value) > 1, "a noticeable share of unknown words");
        Assert.Contains("pieces: KING | ␣RICHARD | ␣III | : | ↵ | Now | ␣is | ␣the | ␣winter | ␣of | ␣our | ␣discontent", Lesson.Printed);
    }

    [Fact]
    public void Bpe_training_reaches_2000_tokens_and_the_merges_behave_as_described()
    {
        Assert.Matches(@"trained 1744 merges on 1,003,854 characters in [\d.]+ s \(one run\); vocabulary 2,000", Lesson.Printed);
        Assert.Contains("merge  1: ", Lesson.Printed);
        Assert.True(Lesson.Number(@"of the first 20 merges, (\d+) join a space") >= 3);
        Assert.True(Lesson.Number(@"join a space to the next letter and (\d+) join letters") >= 3);
        Assert.True(Lesson.Number(@"of the last 100 merges, (\d+) make a token that starts with a space") > 50, "most late merges");
        Assert.Contains("the counts never increase from one merge to the next: True", Lesson.Printed);
        Assert.Matches(@"merge \d+: ␣t +\+ he +→ ␣the", Lesson.Printed);
        var counts = Regex.Matches(Lesson.Printed, @"(\d+) tokens in the vocabulary: +(\d+) tokens").Select(x => (V: int.Parse(x.Groups[1].Value), N: int.Parse(x.Groups[2].Value))).ToList();
        Assert.Equal([256, 276, 356, 656, 2000], counts.Select(c => c.V));
        Assert.True(counts.Zip(counts.Skip(1)).All(p => p.Second.N < p.First.N), "longer vocabularies, fewer tokens");
    }

    [Fact]
    public void The_encoder_round_trips_matches_the_naive_reference_and_training_is_reproducible()
    {
        Assert.Contains("round trip: 7 of 7 awkward strings come back unchanged", Lesson.Printed);
        Assert.Contains("'中文' becomes 6 byte tokens", Lesson.Printed);
        Assert.Contains("fast encoder = merges applied one by one in rank order, on 3,000 held-out characters: True", Lesson.Printed);
        Assert.Contains("trained twice on the same text: same 1744 merges: True", Lesson.Printed);
    }

    [Fact]
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

    [Fact]
    public void Vocabulary_size_trades_against_sequence_length()
    {
        var rows = Regex.Matches(Lesson.Printed, @"(characters|words \(with \[UNK\]\)|our BPE, \d+|GPT-2) +vocabulary +([\d,]+): ([\d.]+) tokens per character")
            .ToDictionary(x => x.Groups[1].Value, x => (V: Parse(x.Groups[2].Value), T: Parse(x.Groups[3].Value)));
        Assert.Equal(8, rows.Count);
        Assert.Equal(1.0, rows["characters"].T);
        Assert.Equal(1.0, rows["our BPE, 256"].T);
        Assert.Contains("non-ASCII characters in the held-out text: 0", Lesson.Printed);
        var bpe = new[] { 256, 300, 500, 1000, 2000 }.Select(v => rows[$"our BPE, {v}"].T).ToArray();
        Assert.True(bpe.Zip(bpe.Skip(1)).All(p => p.Second < p.First), "each step shortens the text");
        var saved = Regex.Matches(Lesson.Printed, @"\d+→\d+: ([\d,]+)").Select(x => Parse(x.Groups[1].Value)).ToArray();
        Assert.Equal(4, saved.Length);
        Assert.True(saved.Zip(saved.Skip(1)).All(p => p.Second < p.First), "diminishing returns");
        Assert.True(rows["GPT-2"].T < bpe[^1] && rows["GPT-2"].T > bpe[^1] / 25, "GPT-2 shorter, far from 25x");
        Assert.Equal(25.1, Lesson.Number(@"GPT-2: " + Num + @"× our largest vocabulary"), 1);
        Assert.InRange(Lesson.Number(@"GPT-2: [\d.]+× our largest vocabulary, (\d+)% fewer tokens"), 5, 30);
        Assert.True(rows["words (with [UNK])"].T < rows["GPT-2"].T, "words give the shortest sequences");
        Assert.InRange(Lesson.Number(@"words: " + Num + @"× our largest vocabulary"), 6.5, 7.5);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Vocabulary size vs sequence length on held-out Shakespeare")
            && h.Contains("\"type\":\"log\"") && h.Contains("tokens per character") && h.Contains("vocabulary size (log scale)"));
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("embedding parameters at d = 768") && h.Contains("38597376"));
    }

    [Fact]
    public void Bert_input_has_special_tokens_three_tables_and_passes_the_numerical_checks()
    {
        Assert.Contains("special tokens: [PAD] = 1000, [CLS] = 1001, [SEP] = 1002, [MASK] = 1003; vocabulary 1,004", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("[CLS]") && h.Contains("[SEP]") && h.Contains("[PAD]") && h.Contains("segment")
            && h.Contains("<td>t</td>") && h.Contains("<td>hat</td>"));
        Assert.Matches(@"2000 tokens in the vocabulary: +\d+ tokens .*\|␣that\|", Lesson.Printed);
        Assert.Contains("token    table: shape [1004, 16] = 16,064 parameters", Lesson.Printed);
        Assert.Contains("position table: shape [32, 16] = 512 parameters", Lesson.Printed);
        Assert.Contains("segment  table: shape [2, 16] = 32 parameters", Lesson.Printed);
        Assert.Contains("ids [1, 20] → input vectors [1, 20, 16]", Lesson.Printed);
        Assert.True(Lesson.Number(@"max \|lookup sum − one-hot products\| = " + Num) < 1e-6);
        Assert.True(Lesson.Number(@"max \|LayerNorm − \(h − μ\)/√\(σ² \+ ε\)\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"in segment 0 and in segment 1 differs by " + Num) > 1e-3);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("BERT input vectors for the pair") && h.Contains("dimension") && h.Contains("position"));
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your CountPairs — .*no pairs at all.*PASS: your CountPairs.*NOT YET: your MergePair — .*nothing was merged.*PASS: your MergePair", Lesson.Printed);
    }
}
