using TransformerCourse.Exercises;
using TransformerCourse.InstructionTuning;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 20's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson20ExerciseTests : TorchTest
{
    static Func<Tensor, int, int, double> Score(int keyOffset = 1, Func<int, int, int>? first = null, Func<int, int, int>? last = null,
        bool sum = false, bool transposed = false) => (w, start, length) =>
    {
        int from = first?.Invoke(start, length) ?? start + length, to = last?.Invoke(start, length) ?? start + 2 * length - 1;
        var m = transposed ? w.transpose(0, 1) : w;
        double total = 0;
        for (int i = from; i <= to; i++) total += m[i, i - length + keyOffset].item<float>();
        return sum ? total : total / (to - from + 1);
    };

    // ----- Exercise 1: the induction score
    [Fact]
    public void Score_reference_passes() => Assert.True(Lesson20.InductionScore(Score()).Passed);

    [Fact]
    public void Score_placeholder_fails()
    {
        var verdict = Lesson20.InductionScore((w, s, l) => 0);
        Assert.False(verdict.Passed);
        Assert.Contains("returns 0", verdict.Feedback);
        Assert.Contains("placeholder", verdict.Feedback);
    }

    [Fact]
    public void Score_on_the_previous_occurrence_is_named()
    {
        var verdict = Lesson20.InductionScore(Score(keyOffset: 0));
        Assert.False(verdict.Passed);
        Assert.Contains("previous occurrence itself", verdict.Feedback);
    }

    [Fact]
    public void Score_with_query_and_key_swapped_is_named()
    {
        var verdict = Lesson20.InductionScore(Score(transposed: true));
        Assert.False(verdict.Passed);
        Assert.Contains("[query, key]", verdict.Feedback);
    }

    [Fact]
    public void Score_as_a_sum_is_named()
    {
        var verdict = Lesson20.InductionScore(Score(sum: true));
        Assert.False(verdict.Passed);
        Assert.Contains("sum of the weights", verdict.Feedback);
    }

    [Fact]
    public void Score_over_one_query_too_few_is_named()
    {
        var verdict = Lesson20.InductionScore(Score(last: (s, l) => s + 2 * l - 2));
        Assert.False(verdict.Passed);
        Assert.Contains("only L − 1 queries", verdict.Feedback);
    }

    [Fact]
    public void Score_over_queries_outside_the_second_copy_is_named()
    {
        var verdict = Lesson20.InductionScore(Score(first: (s, l) => l - 1));
        Assert.False(verdict.Passed);
        Assert.Contains("outside the second copy", verdict.Feedback);
    }

    [Fact]
    public void Score_from_the_end_of_the_sequence_is_named()
    {
        // Passes every case whose second copy ends on the last row; the checker needs one with tokens after it.
        var verdict = Lesson20.InductionScore((w, s, l) =>
        {
            int t = (int)w.shape[0];
            double total = 0;
            for (int i = t - l; i < t; i++) total += w[i, i - l + 1].item<float>();
            return total / l;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("end of the sequence, not start", verdict.Feedback);
    }

    [Fact]
    public void Score_looping_to_the_last_row_is_named()
    {
        var verdict = Lesson20.InductionScore((w, s, l) =>
        {
            double total = 0;
            for (int i = s + l; i < w.shape[0]; i++) total += w[i, i - l + 1].item<float>();
            return total / l;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("end of the sequence, not start", verdict.Feedback);
    }

    [Fact]
    public void Score_that_calls_the_library_is_refused()
    {
        var verdict = Lesson20.InductionScore((w, s, l) =>
        {
            using var tokens = zeros(new long[] { 1, w.shape[0] }, ScalarType.Int64);
            var batch = new TransformerCourse.InContext.RepeatedSegmentBatch(tokens, [s], [l]);
            return TransformerCourse.InContext.InductionScores.Induction(w.reshape(1, 1, 1, w.shape[0], w.shape[1]), batch)[0, 0].item<float>();
        });
        Assert.False(verdict.Passed);
        Assert.Contains("InductionScores.Induction", verdict.Feedback);
    }

    // ----- Exercise 2: the response labels
    static long[] Labels(long[] tokens, int prompt, Func<int, int, bool>? isTarget = null, int shift = 1, long ignore = -100) =>
        Enumerable.Range(0, tokens.Length - 1).Select(t => (isTarget ?? ((i, p) => i + 1 >= p))(t, prompt) ? tokens[t + shift] : ignore).ToArray();

    [Fact]
    public void Labels_reference_passes() => Assert.True(Lesson20.ResponseLabels((t, p) => Labels(t, p)).Passed);

    [Fact]
    public void Labels_placeholder_fails()
    {
        var verdict = Lesson20.ResponseLabels((t, p) => t.Skip(1).Select(_ => -100L).ToArray());
        Assert.False(verdict.Passed);
        Assert.Contains("placeholder", verdict.Feedback);
    }

    [Fact]
    public void Labels_that_mask_the_response_instead_of_the_prompt_are_named()
    {
        var verdict = Lesson20.ResponseLabels((t, p) => Labels(t, p, (i, q) => i + 1 < q));
        Assert.False(verdict.Passed);
        Assert.Contains("wrong way round", verdict.Feedback);
    }

    [Fact]
    public void Labels_off_by_one_that_drop_the_first_response_token_are_named()
    {
        var verdict = Lesson20.ResponseLabels((t, p) => Labels(t, p, (i, q) => i >= q));
        Assert.False(verdict.Passed);
        Assert.Contains("first response token is not a label", verdict.Feedback);
    }

    [Fact]
    public void Labels_off_by_one_that_keep_the_last_prompt_token_are_named()
    {
        var verdict = Lesson20.ResponseLabels((t, p) => Labels(t, p, (i, q) => i + 2 >= q));
        Assert.False(verdict.Passed);
        Assert.Contains("last prompt token is a label", verdict.Feedback);
    }

    [Fact]
    public void Labels_without_the_shift_are_named()
    {
        var verdict = Lesson20.ResponseLabels((t, p) => Labels(t, p, (i, q) => i >= q, shift: 0));
        Assert.False(verdict.Passed);
        Assert.Contains("NEXT token", verdict.Feedback);
    }

    [Fact]
    public void Labels_with_zero_as_the_ignore_value_are_named()
    {
        var verdict = Lesson20.ResponseLabels((t, p) => Labels(t, p, ignore: 0));
        Assert.False(verdict.Passed);
        Assert.Contains("real token id", verdict.Feedback);
    }

    [Fact]
    public void Labels_without_any_mask_are_named()
    {
        var verdict = Lesson20.ResponseLabels((t, p) => t[1..]);
        Assert.False(verdict.Passed);
        Assert.Contains("nothing is masked", verdict.Feedback);
    }

    [Fact]
    public void Labels_one_per_token_are_named()
    {
        var verdict = Lesson20.ResponseLabels((t, p) => Labels(t, p).Append(-100L).ToArray());
        Assert.False(verdict.Passed);
        Assert.Contains("one per token", verdict.Feedback);
    }

    [Fact]
    public void Labels_that_call_the_library_are_refused()
    {
        var verdict = Lesson20.ResponseLabels(ResponseMasking.Labels);
        Assert.False(verdict.Passed);
        Assert.Contains("ResponseMasking.Labels", verdict.Feedback);
    }
}
