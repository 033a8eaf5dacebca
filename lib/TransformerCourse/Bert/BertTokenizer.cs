using TransformerCourse.Tokenization;

namespace TransformerCourse.Bert;

/// <summary>
/// The mini-BERT's tokenizer: Lesson 12's byte-level BPE, trained on the training part of the corpus to
/// <see cref="DefaultVocabSize"/> ordinary tokens (deterministic: same text, same merges), with BERT's special tokens
/// [PAD], [CLS], [SEP], [MASK] appended after them. BERT itself uses a 30,522-token WordPiece vocabulary
/// (Devlin et al., 2019); a small corpus and a small model want a small vocabulary. 400 (256 bytes + 144 merges) rather
/// than 1,000: every token is seen more often, and the mini-BERT leaves the unigram plateau of masked-LM
/// training within its two-minute budget (measured while choosing the recipe: at 1,000 tokens it had not after 1,200 steps, at 400 it has within 1,000).
/// </summary>
public static class BertTokenizer
{
    public const int DefaultVocabSize = 400;

    /// <summary>Trains BPE on <paramref name="text"/> and adds the special tokens.</summary>
    public static BytePairEncoder Train(string text, int vocabSize = DefaultVocabSize) =>
        BpeTrainer.Train(text, vocabSize).WithSpecialTokens(SentencePair.SpecialNames);

    /// <summary>Rebuilds the tokenizer from its merges (as stored in a checkpoint), without retraining.</summary>
    public static BytePairEncoder FromMerges(IReadOnlyList<int[]> merges)
    {
        var vocabulary = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList();
        var list = new List<BpeMerge>();
        foreach (var m in merges)
        {
            if (m.Length != 2 || m[0] < 0 || m[1] < 0 || m[0] >= vocabulary.Count || m[1] >= vocabulary.Count)
                throw new ArgumentException($"merge {list.Count} is [{string.Join(", ", m)}]; it must be two ids below {vocabulary.Count}.", nameof(merges));
            list.Add(new BpeMerge(m[0], m[1], vocabulary.Count));
            vocabulary.Add([.. vocabulary[m[0]], .. vocabulary[m[1]]]);
        }
        return new BytePairEncoder([.. vocabulary], Enumerable.Range(0, 256).ToArray(), [.. list], RegexPretokenizer.Gpt2)
            .WithSpecialTokens(SentencePair.SpecialNames);
    }

    /// <summary>The merges as [left, right] pairs, in rank order (what <see cref="FromMerges"/> reads).</summary>
    public static List<int[]> Merges(BytePairEncoder tokenizer) => tokenizer.Merges.Select(m => new[] { m.Left, m.Right }).ToList();

    /// <summary>Number of ordinary (non-special) tokens: ids 0..n−1; the special tokens come after.</summary>
    public static int OrdinaryTokens(BytePairEncoder tokenizer) => tokenizer.VocabSize - tokenizer.SpecialTokens.Count;
}
