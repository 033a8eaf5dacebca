using TransformerCourse.Exercises;
using TransformerCourse.Tokenization;
using TransformerCourse.Tests.Library;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 12's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson12ExerciseTests : TorchTest
{
    static Dictionary<(int, int), int> ReferenceCount(List<int[]> words)
    {
        var counts = new Dictionary<(int, int), int>();
        foreach (var word in words)
            for (int i = 0; i + 1 < word.Length; i++)
                counts[(word[i], word[i + 1])] = counts.GetValueOrDefault((word[i], word[i + 1])) + 1;
        return counts;
    }

    [Fact]
    public void Count_reference_passes() => Assert.True(Lesson12.CountPairs(ReferenceCount).Passed);

    [Fact]
    public void Count_placeholder_fails_saying_no_pairs()
    {
        var verdict = Lesson12.CountPairs(_ => new Dictionary<(int, int), int>());
        Assert.False(verdict.Passed);
        Assert.Contains("no pairs at all", verdict.Feedback);
    }

    [Fact]
    public void Counting_across_word_boundaries_is_named()
    {
        var verdict = Lesson12.CountPairs(words => ReferenceCount([[.. words.SelectMany(w => w)]]));
        Assert.False(verdict.Passed);
        Assert.Contains("never cross words", verdict.Feedback);
    }

    [Fact]
    public void Stopping_one_pair_early_is_named()
    {
        var verdict = Lesson12.CountPairs(words =>
        {
            var counts = new Dictionary<(int, int), int>();
            foreach (var word in words)
                for (int i = 0; i < word.Length - 2; i++)
                    counts[(word[i], word[i + 1])] = counts.GetValueOrDefault((word[i], word[i + 1])) + 1;
            return counts;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("last pair of each word is never counted", verdict.Feedback);
    }

    [Fact]
    public void Reading_past_the_end_of_a_word_is_named_as_an_off_by_one()
    {
        var verdict = Lesson12.CountPairs(words =>
        {
            var counts = new Dictionary<(int, int), int>();
            foreach (var word in words)
                for (int i = 0; i < word.Length; i++)
                    counts[(word[i], word[i + 1])] = counts.GetValueOrDefault((word[i], word[i + 1])) + 1;
            return counts;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("reads past the end of a word", verdict.Feedback);
        Assert.Contains("one step earlier", verdict.Feedback);
    }

    [Fact]
    public void Skipping_overlapping_pairs_is_named()
    {
        var verdict = Lesson12.CountPairs(words =>
        {
            var counts = new Dictionary<(int, int), int>();
            foreach (var word in words)
                for (int i = 0; i + 1 < word.Length; i++)
                {
                    counts[(word[i], word[i + 1])] = counts.GetValueOrDefault((word[i], word[i + 1])) + 1;
                    if (word[i] == word[i + 1]) i++;   // "already used"
                }
            return counts;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("occurs twice", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_counter_is_refused()
    {
        var verdict = Lesson12.CountPairs(words => BytePairs.Count(words).ToDictionary(p => p.Key, p => (int)p.Value));
        Assert.False(verdict.Passed);
        Assert.Contains("BytePairs.Count", verdict.Feedback);
    }

    static int[] ReferenceMerge(int[] tokens, int left, int right, int merged)
    {
        var result = new List<int>();
        for (int i = 0; i < tokens.Length; i++)
        {
            if (i + 1 < tokens.Length && tokens[i] == left && tokens[i + 1] == right) { result.Add(merged); i++; }
            else result.Add(tokens[i]);
        }
        return [.. result];
    }

    [Fact]
    public void Merge_reference_passes() => Assert.True(Lesson12.MergePair(ReferenceMerge).Passed);

    [Fact]
    public void Merge_placeholder_fails_saying_nothing_merged()
    {
        var verdict = Lesson12.MergePair((tokens, _, _, _) => tokens);
        Assert.False(verdict.Passed);
        Assert.Contains("nothing was merged", verdict.Feedback);
    }

    [Fact]
    public void Not_skipping_the_right_token_is_named_as_overlapping()
    {
        var verdict = Lesson12.MergePair((tokens, left, right, merged) =>
        {
            var result = new List<int>();
            for (int i = 0; i < tokens.Length; i++)
                result.Add(i + 1 < tokens.Length && tokens[i] == left && tokens[i + 1] == right ? merged : tokens[i]);
            return [.. result];
        });
        Assert.False(verdict.Passed);
        Assert.Contains("overlapping merges", verdict.Feedback);
    }

    [Fact]
    public void Dropping_the_last_token_is_named()
    {
        var verdict = Lesson12.MergePair((tokens, left, right, merged) =>
        {
            var result = new List<int>();
            for (int i = 0; i + 1 < tokens.Length; i++)
            {
                if (tokens[i] == left && tokens[i + 1] == right) { result.Add(merged); i++; }
                else result.Add(tokens[i]);
            }
            return [.. result];
        });
        Assert.False(verdict.Passed);
        Assert.Contains("last token went missing", verdict.Feedback);
    }

    [Fact]
    public void Merging_only_the_first_occurrence_is_named()
    {
        var verdict = Lesson12.MergePair((tokens, left, right, merged) =>
        {
            for (int i = 0; i + 1 < tokens.Length; i++)
                if (tokens[i] == left && tokens[i + 1] == right) return [.. tokens[..i], merged, .. tokens[(i + 2)..]];
            return tokens;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("only the first occurrence", verdict.Feedback);
    }

    [Fact]
    public void Merging_the_ids_as_text_is_caught_by_multi_digit_ids()
    {
        var verdict = Lesson12.MergePair((tokens, left, right, merged) =>
        {
            var text = string.Join(",", tokens).Replace($"{left},{right}", $"{merged}");
            return text.Length == 0 ? [] : text.Split(',').Select(int.Parse).ToArray();
        });
        Assert.False(verdict.Passed);
        Assert.Contains("MergePair([11, 2], 1, 2, 99) gives [199]", verdict.Feedback);
        Assert.Contains("as if the tokens were text", verdict.Feedback);
    }

    [Fact]
    public void Reading_past_the_end_of_the_array_is_named()
    {
        var verdict = Lesson12.MergePair((tokens, left, right, merged) =>
        {
            var result = new List<int>();
            for (int i = 0; i < tokens.Length; i++)
            {
                if (tokens[i] == left && tokens[i + 1] == right) { result.Add(merged); i++; }
                else result.Add(tokens[i]);
            }
            return [.. result];
        });
        Assert.False(verdict.Passed);
        Assert.Contains("reads past the end of the array", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_merge_is_refused()
    {
        var verdict = Lesson12.MergePair((tokens, left, right, merged) => BytePairs.Merge(tokens, left, right, merged));
        Assert.False(verdict.Passed);
        Assert.Contains("BytePairs.Merge", verdict.Feedback);
    }

    // Exercise 3: a trainer built on the two functions above, in the shape the lesson's solution cell has.
    static List<(int Left, int Right)> Train(List<int[]> words, int mergeCount, Func<Dictionary<(int, int), int>, (int, int)> choose,
        bool recount = true, bool rewrite = true, int firstId = Lesson12.FirstMergedId)
    {
        var merges = new List<(int, int)>();
        var counts = ReferenceCount(words);
        for (int n = 0; n < mergeCount; n++)
        {
            if (recount) counts = ReferenceCount(words);
            if (counts.Count == 0) break;
            var best = choose(counts);
            merges.Add(best);
            if (!recount) counts.Remove(best);
            if (rewrite) words = words.Select(w => ReferenceMerge(w, best.Item1, best.Item2, firstId + n)).ToList();
        }
        return merges;
    }

    static (int, int) MostFrequentSmallestIds(Dictionary<(int, int), int> counts) =>
        counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1).ThenBy(p => p.Key.Item2).First().Key;

    [Fact]
    public void TrainMerges_reference_passes() =>
        Assert.True(Lesson12.TrainMerges((words, k) => Train(words, k, MostFrequentSmallestIds)).Passed);

    [Fact]
    public void TrainMerges_placeholder_fails_saying_no_merges()
    {
        var verdict = Lesson12.TrainMerges((_, _) => []);
        Assert.False(verdict.Passed);
        Assert.Contains("returns no merges", verdict.Feedback);
    }

    [Fact]
    public void Breaking_ties_by_first_seen_instead_of_smallest_ids_is_named()
    {
        var verdict = Lesson12.TrainMerges((words, k) => Train(words, k, counts => counts.MaxBy(p => p.Value).Key));
        Assert.False(verdict.Passed);
        Assert.Contains("on a tie the pair with the smaller left id wins", verdict.Feedback);
    }

    [Fact]
    public void Counting_only_once_is_named()
    {
        var verdict = Lesson12.TrainMerges((words, k) => Train(words, k, MostFrequentSmallestIds, recount: false));
        Assert.False(verdict.Passed);
        Assert.Contains("counted again after every merge", verdict.Feedback);
    }

    [Fact]
    public void Not_rewriting_the_words_is_named()
    {
        var verdict = Lesson12.TrainMerges((words, k) => Train(words, k, MostFrequentSmallestIds, rewrite: false));
        Assert.False(verdict.Passed);
        Assert.Contains("repeats merge 1", verdict.Feedback);
    }

    [Fact]
    public void Numbering_new_tokens_from_the_wrong_id_is_named()
    {
        var verdict = Lesson12.TrainMerges((words, k) => Train(words, k, MostFrequentSmallestIds, firstId: 257));
        Assert.False(verdict.Passed);
        Assert.Contains("numbers the new tokens from 257", verdict.Feedback);
    }

    [Fact]
    public void Not_stopping_when_no_pair_is_left_is_named()
    {
        var verdict = Lesson12.TrainMerges((words, k) =>
        {
            var merges = Train(words, k, MostFrequentSmallestIds);
            while (merges.Count < k) merges.Add(merges[^1]);
            return merges;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("training stops when there is nothing left to merge", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_trainer_is_refused()
    {
        var verdict = Lesson12.TrainMerges((words, k) =>
            BpeTrainer.Train(string.Concat(words.Select(w => System.Text.Encoding.UTF8.GetString(w.Select(b => (byte)b).ToArray()))), 256 + k)
                .Merges.Select(m => (m.Left, m.Right)).ToList());
        Assert.False(verdict.Passed);
        Assert.Contains("BpeTrainer.Train", verdict.Feedback);
    }
}
