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
                string shown = Show(words);
                var got = ReadsPastTheEnd(() => Forbidding(["BytePairs.Count"], () => yours(copy)),
                    $"for the words {shown} it reads past the end of a word (IndexOutOfRangeException): the last token of a word has no right-hand neighbour, so the loop must stop one step earlier.");
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
                // Ids with several digits: token 11 is not token 1 (a merge done on the text "11,2" would think so).
                ([11, 2], 1, 2), ([1, 21], 1, 2), ([12, 1, 2, 21], 1, 2), ([300, 1, 2, 256], 1, 2), ([256, 258, 1], 256, 258),
            };
            cases.AddRange(Enumerable.Range(0, 20).Select(_ => (Enumerable.Range(0, random.Next(0, 12)).Select(_ => random.Next(0, 3)).ToArray(), random.Next(0, 3), random.Next(0, 3))));
            int[] manyDigits = [1, 2, 11, 12, 21, 112];
            cases.AddRange(Enumerable.Range(0, 20).Select(_ => (Enumerable.Range(0, random.Next(0, 10)).Select(_ => manyDigits[random.Next(manyDigits.Length)]).ToArray(), 1, 2)));
            foreach (var (tokens, left, right) in cases)
            {
                var input = tokens.ToArray();
                string call = $"MergePair([{string.Join(", ", tokens)}], {left}, {right}, {X})";
                int[]? answer = ReadsPastTheEnd(() => Forbidding(["BytePairs.Merge"], () => yours(input, left, right, X)),
                    $"{call} reads past the end of the array (IndexOutOfRangeException): the last token has no right-hand neighbour, so it cannot start a pair.");
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
                Expect(!MergeAsText(tokens, left, right, X).Any(hack => got.SequenceEqual(hack)),
                    $"{result}: it matched digits inside the ids, as if the tokens were text. Token 11 is not token 1 followed by anything: compare whole ids, one token at a time.");
                Expect(false, $"{result}.");
            }
        });

    /// <summary>The id the first learned merge gets: right after the 256 byte tokens.</summary>
    public const int FirstMergedId = 256;

    /// <summary>
    /// Exercise 3: train byte-pair merges. <c>yours(words, mergeCount)</c> gets the byte tokens of every pre-token
    /// piece of a text (one entry per occurrence) and returns the merged pairs in the order learned: merge n
    /// (counting from 0) creates token 256 + n; ties go to the smaller left id, then the smaller right id; training
    /// stops early when no pair is left. It must reproduce <see cref="BpeTrainer.Train"/>'s merges exactly.
    /// </summary>
    public static Verdict TrainMerges(Func<List<int[]>, int, List<(int Left, int Right)>> yours) => Check("your TrainMerges",
        "go back to the three steps and the sentence on ties in the section \"Byte-pair encoding\": every round starts by counting the words as they are after the previous merge.",
        () =>
        {
            var random = new Random(12);
            var cases = new List<(string Text, int Merges)>
            {
                ("To be, or not to be, that is the question", 12),
                ("aaaa aaa", 10),                                    // ties from the second merge on; only 4 merges exist
                ("ab ba ab ba cd dc cd dc", 8),                      // equal counts everywhere
                ("Whether 'tis nobler in the mind to suffer the slings and arrows of outrageous fortune, or to take arms against a sea of troubles", 30),
            };
            cases.AddRange(Enumerable.Range(0, 6).Select(_ =>
                (new string(Enumerable.Range(0, random.Next(10, 60)).Select(_ => "abcd  "[random.Next(6)]).ToArray()), random.Next(3, 25))));
            foreach (var (text, mergeCount) in cases)
            {
                var words = RegexPretokenizer.Gpt2.Split(text).Select(p => System.Text.Encoding.UTF8.GetBytes(p).Select(b => (int)b).ToArray()).ToList();
                var want = BpeTrainer.Train(text, FirstMergedId + mergeCount).Merges.Select(m => (m.Left, m.Right)).ToList();
                var copy = words.Select(w => w.ToArray()).ToList();
                string call = $"TrainMerges(the bytes of \"{text}\", {mergeCount})";
                var answer = Forbidding(["BpeTrainer.Train", "BytePairs.Count", "BytePairs.Merge"], () => yours(copy, mergeCount));
                Expect(answer is not null, $"{call} returns null.");
                var got = answer!;
                if (got.SequenceEqual(want)) continue;
                Expect(got.Count > 0, $"{call} returns no merges.");
                foreach (int start in new[] { FirstMergedId + 1, FirstMergedId - 1 })
                {
                    int Renumber(int id) => id >= start ? id - start + FirstMergedId : id;
                    Expect(!got.Select(p => (Renumber(p.Left), Renumber(p.Right))).SequenceEqual(want),
                        $"{call} picks the right pairs, but numbers the new tokens from {start}: the first merge creates token {FirstMergedId}, the second {FirstMergedId + 1}, and so on.");
                }
                int i = Enumerable.Range(0, Math.Min(got.Count, want.Count)).FirstOrDefault(k => got[k] != want[k], -1);
                if (i < 0)
                {
                    Expect(got.Count < want.Count, $"{call} returns {got.Count} merges, but after {want.Count} no adjacent pair is left in any word: training stops when there is nothing left to merge.");
                    Expect(false, $"{call} returns {got.Count} merges, but {mergeCount} were asked for and pairs were still left to merge.");
                }
                // The words as they are after the first i (correct) merges, and their pair counts.
                var state = words.Select(w => w.ToArray()).ToList();
                for (int k = 0; k < i; k++) state = state.Select(w => BytePairs.MergeCore(w, want[k].Left, want[k].Right, FirstMergedId + k)).ToList();
                var counts = BytePairs.CountCore(state, null);
                long best = counts.Values.Max();
                var g = got[i];
                string pairs = $"merge {i + 1} of {call}";
                int earlier = got.Take(i).ToList().IndexOf(g);
                Expect(earlier < 0, $"{pairs} repeats merge {earlier + 1}, {Pair(g)}: after a merge the words must be rewritten with the new token, or the same pair wins again.");
                var present = state.SelectMany(w => w).ToHashSet();
                var missing = new[] { g.Left, g.Right }.Where(id => !present.Contains(id)).ToList();
                Expect(!(missing.Count > 0 && missing.Any(id => id >= FirstMergedId)),
                    $"{pairs} is {Pair(g)}, but token {missing.FirstOrDefault(id => id >= FirstMergedId)} is not in the words at that point: the first merge creates token {FirstMergedId}, the second {FirstMergedId + 1}, and so on.");
                var stale = Ranked(BytePairs.CountCore(words, null));
                Expect(!(i < stale.Count && g == stale[i] && counts.GetValueOrDefault(g) < best),
                    $"{pairs} is {Pair(g)}, the pair ranked {i + 1} in the counts of the original bytes, but by then it occurs {counts.GetValueOrDefault(g)} time(s) and {Pair(want[i])} occurs {best}: the pairs must be counted again after every merge.");
                Expect(counts.GetValueOrDefault(g) > 0, $"{pairs} is {Pair(g)}, a pair that does not occur in the words at that point (after merges 1 to {i}).");
                Expect(counts[g] == best, $"{pairs} is {Pair(g)}, seen {counts[g]} time(s), but {Pair(want[i])} is seen {best} times: each round takes the most frequent pair.");
                Expect(false, $"{pairs} is {Pair(g)} but {Pair(want[i])} wins: both occur {best} times, and on a tie the pair with the smaller left id wins, then the one with the smaller right id.");
            }
        });

    static string Pair((int Left, int Right) p) => $"({p.Left}, {p.Right})";

    static List<(int, int)> Ranked(Dictionary<(int Left, int Right), long> counts) =>
        counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Left).ThenBy(p => p.Key.Right).Select(p => p.Key).ToList();

    static T ReadsPastTheEnd<T>(Func<T> run, string diagnosis)
    {
        try { return run(); }
        catch (IndexOutOfRangeException) { throw new NotYetException(diagnosis); }
    }

    // The shortcut of merging the ids as text ("1,2" → "99"), with a comma or a space between ids.
    static IEnumerable<int[]> MergeAsText(int[] t, int left, int right, int merged) =>
        new[] { ",", " ", ", " }.Select(sep =>
        {
            var text = string.Join(sep, t).Replace($"{left}{sep}{right}", $"{merged}");
            return text.Length == 0 ? [] : text.Split(sep).Select(x => int.TryParse(x, out var v) ? v : -1).ToArray();
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
