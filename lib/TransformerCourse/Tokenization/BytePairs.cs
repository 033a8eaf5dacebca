using TransformerCourse.Exercises;

namespace TransformerCourse.Tokenization;

/// <summary>
/// The two steps byte-pair encoding repeats (Sennrich et al., 2016; Gage, 1994): count the adjacent pairs of
/// tokens inside each word, and replace every occurrence of one pair by a new token.
/// </summary>
public static class BytePairs
{
    /// <summary>
    /// How often each adjacent pair occurs inside the words (never across two words). A word of n tokens has
    /// n − 1 pairs, overlapping ones included: "aaa" holds (a, a) twice. <paramref name="counts"/> weighs each
    /// word (its frequency in the corpus); null counts each word once.
    /// </summary>
    public static Dictionary<(int Left, int Right), long> Count(IReadOnlyList<int[]> words, IReadOnlyList<long>? counts = null)
    {
        RebuiltRoutines.Enter("BytePairs.Count");
        return CountCore(words, counts);
    }

    internal static Dictionary<(int Left, int Right), long> CountCore(IReadOnlyList<int[]> words, IReadOnlyList<long>? counts)
    {
        ArgumentNullException.ThrowIfNull(words);
        if (counts is not null && counts.Count != words.Count)
            throw new ArgumentException($"counts has {counts.Count} entries for {words.Count} words.", nameof(counts));
        var pairs = new Dictionary<(int, int), long>();
        for (int w = 0; w < words.Count; w++)
        {
            long weight = counts?[w] ?? 1;
            var word = words[w];
            for (int i = 0; i + 1 < word.Length; i++)
                pairs[(word[i], word[i + 1])] = pairs.GetValueOrDefault((word[i], word[i + 1])) + weight;
        }
        return pairs;
    }

    /// <summary>
    /// <paramref name="tokens"/> with every occurrence of (<paramref name="left"/>, <paramref name="right"/>)
    /// replaced by <paramref name="merged"/>, scanning left to right. Occurrences cannot overlap: with the pair
    /// (a, a), "aaa" becomes [aa, a].
    /// </summary>
    public static int[] Merge(IReadOnlyList<int> tokens, int left, int right, int merged)
    {
        RebuiltRoutines.Enter("BytePairs.Merge");
        ArgumentNullException.ThrowIfNull(tokens);
        return MergeCore(tokens, left, right, merged);
    }

    /// <summary><see cref="Merge"/> for the library's own use (not announced as a rebuilt routine).</summary>
    internal static int[] MergeCore(IReadOnlyList<int> tokens, int left, int right, int merged)
    {
        var result = new List<int>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            if (i + 1 < tokens.Count && tokens[i] == left && tokens[i + 1] == right)
            {
                result.Add(merged);
                i++;
            }
            else result.Add(tokens[i]);
        }
        return [.. result];
    }
}
