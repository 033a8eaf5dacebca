using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 5's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson05ExerciseTests : TorchTest
{
    // Stands in for the trained model's mean weights: the ideal rotation plus a little noise (the lesson's is within 0.002).
    static Tensor Learned(int length, int shift) => eye(length).roll(shift, 1) * 0.98 + 0.02 / length;

    static Verdict Alignment(Func<int, int, Tensor> yours) => Lesson05.PredictedAlignment(yours, 3, Learned(8, 3));

    [Fact]
    public void Alignment_reference_passes() => Assert.True(Alignment((n, s) => eye(n).roll(s, 1)).Passed);

    [Fact]
    public void Alignment_loop_reference_passes() => Assert.True(Alignment((n, s) =>
    {
        var a = zeros(n, n);
        for (int i = 0; i < n; i++) a[i, (i + s) % n] = 1;
        return a;
    }).Passed);

    [Fact]
    public void Alignment_placeholder_is_named_as_the_copy_alignment()
    {
        var verdict = Alignment((n, _) => eye(n));
        Assert.False(verdict.Passed);
        Assert.Contains("still the copy alignment", verdict.Feedback);
    }

    [Theory]
    [InlineData("roll-back")]
    [InlineData("transposed")]
    public void Alignment_shifted_the_wrong_way_is_named(string mistake)
    {
        var verdict = Alignment((n, s) => mistake == "roll-back" ? eye(n).roll(-s, 1) : eye(n).roll(s, 1).T);
        Assert.False(verdict.Passed);
        Assert.Contains("shifts the other way", verdict.Feedback);
    }

    [Fact]
    public void Alignment_without_wrap_around_is_named()
    {
        var verdict = Alignment((n, s) =>
        {
            var a = zeros(n, n);
            for (int i = 0; i < n; i++) if (i + s < n) a[i, i + s] = 1;
            return a;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("wrap around", verdict.Feedback);
    }

    [Fact]
    public void A_hard_coded_alignment_is_named()
    {
        var verdict = Alignment((_, _) => eye(8).roll(3, 1));
        Assert.False(verdict.Passed);
        Assert.Contains("has shape", verdict.Feedback);   // (8, 8) where (5, 5) was asked
        var sizeAware = Alignment((n, _) => eye(n).roll(3, 1));
        Assert.False(sizeAware.Passed);
        Assert.Contains("follow the arguments", sizeAware.Feedback);
    }

    [Fact]
    public void The_reversal_alignment_is_named() =>
        Assert.Contains("reversal alignment", Alignment((n, _) => eye(n).flip(1)).Feedback);

    [Fact]
    public void A_prediction_far_from_the_learned_weights_fails() =>
        Assert.Contains("differ from it", Lesson05.PredictedAlignment((n, s) => eye(n).roll(s, 1), 3, Learned(8, 2)).Feedback);

    static int[] CarryReference(int n, int shift) => Enumerable.Range(0, n).Select(i => n + i - (i + shift) % n).ToArray();

    static int[] CarryFrom(int n, Func<int, int> distance) => Enumerable.Range(0, n).Select(distance).ToArray();

    [Fact]
    public void Carry_reference_passes() => Assert.True(Lesson05.LstmCarryDistance(CarryReference).Passed);

    [Fact]
    public void Carry_loop_reference_passes() => Assert.True(Lesson05.LstmCarryDistance((n, s) =>
    {
        var d = new int[n];
        for (int i = 0; i < n; i++)
        {
            int source = i + s % n;
            if (source >= n) source -= n;
            d[i] = (n + i) - source;
        }
        return d;
    }).Passed);

    [Fact]
    public void Carry_placeholder_is_named_as_the_reversal()
    {
        var verdict = Lesson05.LstmCarryDistance((n, _) => CarryFrom(n, i => 2 * i + 1));
        Assert.False(verdict.Passed);
        Assert.Contains("the reversal's distances", verdict.Feedback);
    }

    [Fact]
    public void Carry_without_wrap_around_is_named()
    {
        var verdict = Lesson05.LstmCarryDistance((n, s) => CarryFrom(n, i => n + i - (i + s)));
        Assert.False(verdict.Passed);
        Assert.Contains("wraps around", verdict.Feedback);
    }

    [Fact]
    public void Carry_in_the_other_direction_is_named()
    {
        var verdict = Lesson05.LstmCarryDistance((n, s) => CarryFrom(n, i => n + i - ((i - s) % n + n) % n));
        Assert.False(verdict.Passed);
        Assert.Contains("shifts the other way", verdict.Feedback);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Carry_off_by_one_is_named(int offset)
    {
        var verdict = Lesson05.LstmCarryDistance((n, s) => CarryFrom(n, i => n + i - (i + s) % n + offset));
        Assert.False(verdict.Passed);
        Assert.Contains("off by one", verdict.Feedback);
    }

    [Fact]
    public void Carry_forgetting_the_source_pass_is_named()
    {
        var verdict = Lesson05.LstmCarryDistance((n, s) => CarryFrom(n, i => i - (i + s) % n));
        Assert.False(verdict.Passed);
        Assert.Contains("off by L", verdict.Feedback);
    }

    [Fact]
    public void Carry_as_attention_path_is_named()
    {
        var verdict = Lesson05.LstmCarryDistance((n, _) => CarryFrom(n, _ => 1));
        Assert.False(verdict.Passed);
        Assert.Contains("attention's path", verdict.Feedback);
    }

    [Fact]
    public void Carry_hard_coded_for_the_lesson_case_is_named()
    {
        var verdict = Lesson05.LstmCarryDistance((n, s) => n == 8 ? CarryReference(8, 3) : CarryFrom(n, i => 2 * i + 2));
        Assert.False(verdict.Passed);
        Assert.Contains("follow the arguments", verdict.Feedback);
    }
}
