using System.Text;
using Microsoft.ML.Tokenizers;
using TransformerCourse.Data;
using TransformerCourse.Tokenization;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>Byte-level BPE (trainer, encoder, GPT-2's ranks), the word baseline and BERT's input layer.</summary>
public class TokenizerTests : TorchTest
{
    const string Corpus = "the cat sat on the mat. the cat ate the rat! that hat? thin thing, three thousand thoughts\n\n  then  the end";

    public static readonly TheoryData<string> Awkward = new()
    {
        "", " ", "   ", "\n\n\t  \r\n", "café naïve Ångström", "emoji 🙂👍🏽 and 🇫🇷 flags", "中文字符和日本語のテキスト",
        "mixed: 123,456.78 — «quotes» ‘curly’ and 'straight's", "tab\tand   many    spaces   ", "x", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 maths 𝛼",
    };

    static readonly BytePairEncoder Small = BpeTrainer.Train(Corpus, 280);

    static string ShakespeareText() => TinyShakespeare.LoadAsync(TestData.Mirror()).GetAwaiter().GetResult().Text;

    [Theory]
    [MemberData(nameof(Awkward))]
    public void Decode_inverts_encode_for_any_text(string text)
    {
        Assert.Equal(text, Small.Decode(Small.Encode(text)));
        Assert.Equal(text, string.Concat(RegexPretokenizer.Gpt2.Split(text)));
    }

    [Fact]
    public void Random_unicode_round_trips()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            var text = new StringBuilder();
            for (int i = random.Next(0, 30); i > 0; i--)
            {
                int cp;
                do cp = random.Next(4) switch { 0 => random.Next(0x20, 0x7F), 1 => random.Next(0xA0, 0x3000), 2 => random.Next(0x4E00, 0x9FFF), _ => random.Next(0x1F300, 0x1FAFF) };
                while (cp is >= 0xD800 and <= 0xDFFF);
                text.Append(char.ConvertFromUtf32(cp));
                if (random.Next(5) == 0) text.Append(' ', random.Next(1, 4));
            }
            Assert.Equal(text.ToString(), Small.Decode(Small.Encode(text.ToString())));
        }
    }

    [Fact]
    public void Training_is_reproducible_and_reaches_the_vocabulary_size()
    {
        var again = BpeTrainer.Train(Corpus, 280);
        Assert.Equal(Small.Merges, again.Merges);
        Assert.Equal(280, Small.VocabSize);
        Assert.Equal(Enumerable.Range(256, 24), Small.Merges.Select(m => m.Merged));
        Assert.True(Small.Merges.Zip(Small.Merges.Skip(1)).All(p => p.First.Count >= p.Second.Count), "counts never increase");
    }

    [Fact]
    public void Ties_go_to_the_smallest_left_then_right_id()
    {
        // Pieces "ab" and " cd": three pairs, each seen once; (' ', 'c') = (32, 99) is the smallest.
        var tokenizer = BpeTrainer.Train("ab cd", 257);
        Assert.Equal(new BpeMerge(32, 99, 256, 1), tokenizer.Merges[0]);
        // Counts come before ids: in "zz", " zz", " zz" the pair (z, z) occurs 3 times and (' ', z) twice.
        Assert.Equal(new BpeMerge('z', 'z', 256, 3), BpeTrainer.Train("zz zz zz", 257).Merges[0]);
    }

    [Fact]
    public void Training_stops_when_no_pair_is_left()
    {
        var tokenizer = BpeTrainer.Train("ab", 1000);
        Assert.Equal(257, tokenizer.VocabSize);
        Assert.Equal("ab", Encoding.UTF8.GetString(tokenizer.TokenBytes(256)));
        Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train("ab", 100));
    }

    [Fact]
    public void Incremental_training_matches_recounting_after_every_merge()
    {
        var text = ShakespeareText()[..20_000];
        var fast = BpeTrainer.Train(text, 400);
        Assert.Equal(NaiveTrain(text, 400), fast.Merges.Select(m => (m.Left, m.Right, m.Count)).ToList());
    }

    static List<(int, int, long)> NaiveTrain(string text, int vocabSize)
    {
        var words = RegexPretokenizer.Gpt2.Split(text).Select(p => Encoding.UTF8.GetBytes(p).Select(b => (int)b).ToArray()).ToList();
        var merges = new List<(int, int, long)>();
        for (int id = 256; id < vocabSize; id++)
        {
            var counts = BytePairs.Count(words);
            if (counts.Count == 0) break;
            var best = counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Left).ThenBy(p => p.Key.Right).First();
            merges.Add((best.Key.Left, best.Key.Right, best.Value));
            words = words.Select(w => BytePairs.Merge(w, best.Key.Left, best.Key.Right, id)).ToList();
        }
        return merges;
    }

    [Fact]
    public void Encoding_equals_applying_the_merges_in_rank_order()
    {
        var text = ShakespeareText();
        var tokenizer = BpeTrainer.Train(text[..50_000], 500);
        foreach (var sample in new[] { text[60_000..62_000], text[200_000..201_000], "aaaa aaaaa banana bandana 🙂🙂 ünïcödé" })
            Assert.Equal(tokenizer.EncodeNaive(sample), tokenizer.Encode(sample));
    }

    [Fact]
    public void Fewer_merges_give_a_smaller_vocabulary_and_longer_encodings()
    {
        var text = ShakespeareText();
        var big = BpeTrainer.Train(text[..50_000], 600);
        var small = big.WithMerges(100);
        Assert.Equal(356, small.VocabSize);
        Assert.Equal(big.Merges.Take(100), small.Merges);
        var held = text[^5000..];
        Assert.True(small.Encode(held).Length > big.Encode(held).Length);
        Assert.Equal(Encoding.UTF8.GetByteCount(held), big.WithMerges(0).Encode(held).Length);
    }

    [Fact]
    public void Keeping_fewer_merges_drops_the_special_tokens()
    {
        var withSpecial = Small.WithSpecialTokens("[CLS]", "[SEP]");
        Assert.Equal(282, withSpecial.VocabSize);
        var cut = withSpecial.WithMerges(10);
        Assert.Equal(266, cut.VocabSize);
        Assert.Empty(cut.SpecialTokens);
        Assert.Equal(Small.WithMerges(10).Encode(Corpus), cut.Encode(Corpus));
        Assert.Throws<ArgumentOutOfRangeException>(() => withSpecial.WithMerges(25));
    }

    [Fact]
    public void Merge_and_count_treat_overlaps_like_bpe()
    {
        Assert.Equal([256, 97], BytePairs.Merge([97, 97, 97], 97, 97, 256));
        Assert.Equal([256, 256], BytePairs.Merge([97, 97, 97, 97], 97, 97, 256));
        Assert.Equal([1, 256, 3], BytePairs.Merge([1, 2, 3, 3], 2, 3, 256));
        var counts = BytePairs.Count([[97, 97, 97], [98, 97]], [2, 5]);
        Assert.Equal(4, counts[(97, 97)]);
        Assert.Equal(5, counts[(98, 97)]);
        Assert.False(counts.ContainsKey((97, 98)), "no pair across words");
        Assert.Throws<ArgumentException>(() => BytePairs.Count([[1, 2]], [1, 2]));
    }

    const string TestVector = "Hello, do you like tea? <|endoftext|> In the sunlit terracesof someunknownPlace.";
    static readonly int[] TestVectorIds = [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 1659, 617, 34680, 27271, 13];

    static readonly Lazy<BytePairEncoder> OurGpt2 = new(Gpt2Ranks.Tokenizer);

    [Fact]
    public void The_library_gpt2_tokenizer_gives_the_published_test_vector()
    {
        var library = TiktokenTokenizer.CreateForModel("gpt2");
        Assert.Equal(TestVectorIds, library.EncodeToIds(TestVector).ToArray());
    }

    [Fact]
    public void Our_encoder_with_gpt2_ranks_gives_the_test_vector_and_decodes_it()
    {
        var ours = OurGpt2.Value;
        Assert.Equal(50257, ours.VocabSize);
        Assert.Equal(50000, ours.Merges.Count);
        Assert.Equal(TestVectorIds, ours.Encode(TestVector));
        Assert.Equal(TestVectorIds, ours.EncodeNaive(TestVector));
        Assert.Equal(TestVector, ours.Decode(TestVectorIds));
        Assert.Equal("Hello", ours.Show(15496));
    }

    [Fact]
    public void Our_gpt2_encoder_matches_the_library_on_shakespeare_and_awkward_text()
    {
        var library = TiktokenTokenizer.CreateForModel("gpt2");
        var text = ShakespeareText()[..150_000];
        Assert.Equal(library.EncodeToIds(text).ToArray(), OurGpt2.Value.Encode(text));
        foreach (var sample in Awkward) Assert.Equal(library.EncodeToIds(sample).ToArray(), OurGpt2.Value.Encode(sample));
    }

    [Fact]
    public void Word_vocabulary_counts_unknown_words()
    {
        var words = new WordVocabulary("to be or not to be", RegexPretokenizer.Gpt2);
        Assert.Equal(6, words.VocabSize); // [UNK], "to", " be", " or", " not", " to"
        Assert.Equal((4, 1), words.Count("to be or maybe"));
    }

    [Fact]
    public void Sentence_pairs_follow_bert_layout()
    {
        var tokenizer = Small.WithSpecialTokens(SentencePair.SpecialNames);
        Assert.Equal(284, tokenizer.VocabSize);
        var pair = SentencePair.Encode(tokenizer, "the cat", "sat", 10);
        int cls = tokenizer.SpecialId("[CLS]"), sep = tokenizer.SpecialId("[SEP]"), pad = tokenizer.SpecialId("[PAD]");
        var a = tokenizer.Encode("the cat");
        var b = tokenizer.Encode("sat");
        int[] expected = [cls, .. a, sep, .. b, sep];
        Assert.Equal(expected.Concat(Enumerable.Repeat(pad, 10 - expected.Length)), pair.Ids);
        Assert.Equal(Enumerable.Repeat(0, a.Length + 2).Concat(Enumerable.Repeat(1, b.Length + 1)).Concat(Enumerable.Repeat(0, 10 - expected.Length)), pair.Segments);
        Assert.Equal(expected.Length, pair.AttentionMask.Count(m => m));
        Assert.Equal([cls, .. a, sep], tokenizer.Encode("[CLS]the cat[SEP]"));
        var e = Assert.Throws<ArgumentException>(() => SentencePair.Encode(tokenizer, "the cat sat on the mat", "again and again", 6));
        Assert.Contains("maxLength", e.Message);
    }

    [Fact]
    public void Input_embeddings_add_three_table_rows_then_normalise()
    {
        var embeddings = new InputEmbeddings(vocabSize: 20, maxLength: 8, width: 6);
        var ids = tensor(new long[,] { { 1, 5, 5, 19, 0 } });
        var segments = tensor(new long[,] { { 0, 0, 1, 1, 0 } });
        var sum = embeddings.Sum(ids, segments);
        Assert.Equal([1L, 5, 6], sum.shape);
        for (int p = 0; p < 5; p++)
        {
            var manual = embeddings.TokenTable[ids[0, p]] + embeddings.PositionTable[p] + embeddings.SegmentTable[segments[0, p]];
            Assert.True((sum[0, p] - manual).abs().max().item<float>() < 1e-6);
        }
        var output = embeddings.forward(ids, segments);
        Assert.True(output.mean([-1]).abs().max().item<float>() < 1e-5);
        Assert.Throws<ArgumentException>(() => embeddings.forward(tensor(new long[,] { { 20 } }), tensor(new long[,] { { 0 } })));
        Assert.Throws<ArgumentException>(() => embeddings.forward(zeros(1, 9, dtype: ScalarType.Int64), zeros(1, 9, dtype: ScalarType.Int64)));
        Assert.Throws<ArgumentException>(() => embeddings.forward(ids, segments[.., ..3]));
        Assert.Throws<ArgumentException>(() => embeddings.forward(ids, segments + 1));
    }
}
