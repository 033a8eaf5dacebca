using TransformerCourse.Tokenization;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 12 (Tokenization and Input Embeddings).</summary>
public static class Lesson12
{
    /// <summary>
    /// Exercise 1: count every adjacent pair of tokens inside each word (overlapping pairs count; pairs never
    /// cross from one word into the next).
    /// </summary>
    public static Verdict CountPairs(Func<List<int[]>, Dictionary<(int, int), int>> yours) => Check("your CountPairs",
        "go back to step 1 of the section \"Byte-pair encoding\": which neighbours are counted, and where does a word end?",
        () =>
        {
            var random = new Random(12);
            var cases = new List<List<int[]>>
            {
                new() { new[] { 1, 2, 3 }, new[] { 2, 3 }, new[] { 3, 1 } },
                new() { new[] { 5, 5, 5 }, new[] { 6, 5 } },
                new() { new[] { 1, 2 }, new[] { 3, 4 }, new[] { 7 }, Array.Empty<int>(), new[] { 4, 1 } },
                Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, random.Next(0, 7)).Select(_ => random.Next(0, 5)).ToArray()).ToList(),
            };
            foreach (var words in cases)
            {
                var copy = words.Select(w => w.ToArray()).ToList();
                var got = Forbidding(["BytePairs.Count"], () => yours(copy));
                string shown = Show(words);
                Expect(got is not null, "it returns null; return a dictionary from pair to count.");
                Expect(copy.Zip(words).All(p => p.First.SequenceEqual(p.Second)), $"it changed the words it was given ({shown}); counting must only read them.");
                var want = Counts(words, span: 1, overlapping: true);
                if (Equal(got!, want)) continue;
                Expect(got!.Count > 0, $"for the words {shown} it returns no pairs at all.");
                Expect(!Equal(got, Counts([[.. words.SelectMany(w => w)]], 1, true)),
                    $"for the words {shown} it also counts pairs where one word ends and the next begins: pairs never cross words.");
                Expect(!Equal(got, Counts(words, span: 2, overlapping: true)),
                    $"for the words {shown} the last pair of each word is never counted: a word of n tokens has n − 1 pairs (check where your loop stops).");
                Expect(!Equal(got, Counts(words, span: 1, overlapping: false)),
                    $"for the words {shown} a run like [5, 5, 5] gives (5, 5) only once, but it occurs twice: every neighbouring pair counts, even when two pairs share a token.");
                var wrong = want.Keys.Concat(got.Keys).Distinct().First(k => want.GetValueOrDefault(k) != got.GetValueOrDefault(k));
                Expect(false, $"for the words {shown} the pair {wrong} is counted {got.GetValueOrDefault(wrong)} time(s), but it occurs {want.GetValueOrDefault(wrong)} time(s).");
            }
        });

    /// <summary>
    /// Exercise 2: replace every occurrence of the pair (left, right) by <c>merged</c>, left to right, without
    /// overlaps, returning a new array.
    /// </summary>
    public static Verdict MergePair(Func<int[], int, int, int, int[]> yours) => Check("your MergePair",
        "go back to step 3 of the section \"Byte-pair encoding\": once two tokens have become one, can either of them still take part in another pair?",
        () =>
        {
            const int X = 99;
            var random = new Random(12);
            var cases = new List<(int[] Tokens, int Left, int Right)>
            {
                ([1, 2, 3, 1, 2], 1, 2), ([3, 1, 2, 4], 1, 2), ([5, 5, 5], 5, 5), ([5, 5, 5, 5], 5, 5),
                ([1, 2], 1, 2), ([2, 1], 1, 2), ([], 1, 2), ([7], 7, 7), ([1, 2, 1], 1, 2),
            };
            cases.AddRange(Enumerable.Range(0, 20).Select(_ => (Enumerable.Range(0, random.Next(0, 12)).Select(_ => random.Next(0, 3)).ToArray(), random.Next(0, 3), random.Next(0, 3))));
            foreach (var (tokens, left, right) in cases)
            {
                var input = tokens.ToArray();
                int[]? answer = Forbidding(["BytePairs.Merge"], () => yours(input, left, right, X));
                string call = $"MergePair([{string.Join(", ", tokens)}], {left}, {right}, {X})";
                Expect(answer is not null, $"{call} returns null.");
                var got = answer!;
                Expect(input.SequenceEqual(tokens), $"{call} changed the array it was given; return a new array instead.");
                var want = BytePairs.MergeCore(tokens, left, right, X);
                if (got.SequenceEqual(want)) continue;
                string result = $"{call} gives [{string.Join(", ", got)}] instead of [{string.Join(", ", want)}]";
                Expect(!got.SequenceEqual(tokens), $"{result}: nothing was merged.");
                Expect(!got.SequenceEqual(MergeKeepingRight(tokens, left, right, X)),
                    $"{result}: after a merge the second token of the pair is still there, so it can also start the next pair (overlapping merges).");
                Expect(!(got.Length == want.Length - 1 && got.SequenceEqual(want[..^1])), $"{result}: the last token went missing.");
                Expect(!got.SequenceEqual(MergeFirstOnly(tokens, left, right, X)), $"{result}: only the first occurrence was merged.");
                Expect(false, $"{result}.");
            }
        });

    // Pair counts inside each word, with pairs starting at i for i + span < length; non-overlapping counting skips
    // past a pair of equal tokens once counted.
    static Dictionary<(int, int), int> Counts(List<int[]> words, int span, bool overlapping)
    {
        var counts = new Dictionary<(int, int), int>();
        foreach (var w in words)
            for (int i = 0; i + span < w.Length; i++)
            {
                counts[(w[i], w[i + 1])] = counts.GetValueOrDefault((w[i], w[i + 1])) + 1;
                if (!overlapping && w[i] == w[i + 1]) i++;
            }
        return counts;
    }

    static bool Equal(Dictionary<(int, int), int> a, Dictionary<(int, int), int> b) =>
        a.Where(p => p.Value != 0).Count() == b.Count && b.All(p => a.TryGetValue(p.Key, out var c) && c == p.Value);

    static int[] MergeKeepingRight(int[] t, int left, int right, int merged) =>
        t.Select((x, i) => i + 1 < t.Length && x == left && t[i + 1] == right ? merged : x).ToArray();

    static int[] MergeFirstOnly(int[] t, int left, int right, int merged)
    {
        for (int i = 0; i + 1 < t.Length; i++)
            if (t[i] == left && t[i + 1] == right) return [.. t[..i], merged, .. t[(i + 2)..]];
        return t;
    }

    static string Show(List<int[]> words)
    {
        var text = string.Join(", ", words.Take(5).Select(w => $"[{string.Join(", ", w)}]"));
        return words.Count > 5 ? $"{text}, … ({words.Count} words)" : text;
    }
}
