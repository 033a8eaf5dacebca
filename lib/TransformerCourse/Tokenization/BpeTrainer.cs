using System.Text;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tokenization;

/// <summary>
/// Learns byte-level BPE merges from a text (Sennrich et al., 2016, on bytes as in GPT-2). The text is cut into
/// pre-token pieces and each distinct piece is kept once with its count. Then, until the vocabulary has
/// <c>vocabSize</c> tokens: find the most frequent adjacent pair inside the pieces, give it the next id, and
/// merge it everywhere.
/// <para>
/// Tie-break (so training is reproducible): among pairs with the same count, the pair with the smallest left id
/// wins, then the smallest right id. Training stops early when no adjacent pair is left.
/// </para>
/// <para>
/// Speed: pair counts are updated incrementally. Only the pieces that contain the chosen pair are re-counted
/// (an index from each pair to the pieces holding it), instead of recounting the whole corpus after every merge.
/// </para>
/// </summary>
public static class BpeTrainer
{
    public static BytePairEncoder Train(string text, int vocabSize, RegexPretokenizer? pretokenizer = null)
    {
        RebuiltRoutines.Enter("BpeTrainer.Train");
        ArgumentNullException.ThrowIfNull(text);
        if (vocabSize < 256) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "vocabSize must be at least 256 (the byte tokens).");
        pretokenizer ??= RegexPretokenizer.Gpt2;

        var pieceCounts = new Dictionary<string, long>();
        foreach (var piece in pretokenizer.Split(text)) pieceCounts[piece] = pieceCounts.GetValueOrDefault(piece) + 1;
        // Sorted ordinally so the word order (and so everything below) does not depend on hashing.
        var ordered = pieceCounts.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var words = ordered.Select(p => Encoding.UTF8.GetBytes(p.Key).Select(b => (int)b).ToArray()).ToList();
        var counts = ordered.Select(p => p.Value).ToList();

        var pairCounts = BytePairs.CountCore(words, counts);
        var where = new Dictionary<(int, int), HashSet<int>>();
        for (int w = 0; w < words.Count; w++)
            for (int i = 0; i + 1 < words[w].Length; i++)
                Index(where, (words[w][i], words[w][i + 1]), w);

        var vocabulary = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList();
        var merges = new List<BpeMerge>();
        while (vocabulary.Count < vocabSize)
        {
            var best = (Left: -1, Right: -1);
            long bestCount = 0;
            foreach (var (pair, count) in pairCounts)
                if (count > bestCount || (count == bestCount && count > 0 && pair.CompareTo(best) < 0))
                    (best, bestCount) = (pair, count);
            if (bestCount == 0) break;

            int merged = vocabulary.Count;
            merges.Add(new BpeMerge(best.Left, best.Right, merged, bestCount));
            vocabulary.Add([.. vocabulary[best.Left], .. vocabulary[best.Right]]);

            foreach (var w in where[best].ToArray())
            {
                var old = words[w];
                var updated = BytePairs.MergeCore(old, best.Left, best.Right, merged);
                if (updated.Length == old.Length) continue;   // stale index entry: the pair is gone from this word
                long weight = counts[w];
                for (int i = 0; i + 1 < old.Length; i++) Add(pairCounts, (old[i], old[i + 1]), -weight);
                for (int i = 0; i + 1 < updated.Length; i++)
                {
                    Add(pairCounts, (updated[i], updated[i + 1]), weight);
                    Index(where, (updated[i], updated[i + 1]), w);
                }
                words[w] = updated;
            }
            pairCounts.Remove(best);
            where.Remove(best);
        }
        return new BytePairEncoder([.. vocabulary], Enumerable.Range(0, 256).ToArray(), [.. merges], pretokenizer);
    }

    static void Add(Dictionary<(int, int), long> counts, (int, int) pair, long delta)
    {
        long value = counts.GetValueOrDefault(pair) + delta;
        if (value == 0) counts.Remove(pair); else counts[pair] = value;
    }

    static void Index(Dictionary<(int, int), HashSet<int>> where, (int, int) pair, int word)
    {
        if (!where.TryGetValue(pair, out var set)) where[pair] = set = [];
        set.Add(word);
    }
}
