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
    public void Calling_the_library_merge_is_refused()
    {
        var verdict = Lesson12.MergePair((tokens, left, right, merged) => BytePairs.Merge(tokens, left, right, merged));
        Assert.False(verdict.Passed);
        Assert.Contains("BytePairs.Merge", verdict.Feedback);
    }
}
