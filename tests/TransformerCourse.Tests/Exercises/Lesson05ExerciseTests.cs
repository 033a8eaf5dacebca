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

    static double[] Reference(Tensor logits, Tensor target) =>
        logits.argmax(-1).eq(target).to_type(ScalarType.Float64).mean([0]).data<double>().ToArray();

    [Fact]
    public void Accuracy_reference_passes() => Assert.True(Lesson05.AccuracyByPosition(Reference).Passed);

    [Fact]
    public void Accuracy_placeholder_fails_naming_the_zeros()
    {
        var verdict = Lesson05.AccuracyByPosition((_, target) => new double[target.shape[1]]);
        Assert.False(verdict.Passed);
        Assert.Contains("every value is 0", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_routine_is_forbidden()
    {
        var verdict = Lesson05.AccuracyByPosition(PositionAccuracy.FromLogits);
        Assert.False(verdict.Passed);
        Assert.Contains("PositionAccuracy.FromLogits", verdict.Feedback);
        Assert.Equal([1.0], PositionAccuracy.FromLogits(ones(1, 1, 2) * tensor(new float[] { 0, 1 }), ones(1, 1, dtype: ScalarType.Int64)));
    }

    [Fact]
    public void Averaging_over_positions_is_named()
    {
        var verdict = Lesson05.AccuracyByPosition((l, t) => l.argmax(-1).eq(t).to_type(ScalarType.Float64).mean([1]).data<double>().ToArray());
        Assert.False(verdict.Passed);
        Assert.Contains("one per sequence", verdict.Feedback);
    }

    [Fact]
    public void Counts_instead_of_fractions_are_named()
    {
        var verdict = Lesson05.AccuracyByPosition((l, t) => l.argmax(-1).eq(t).to_type(ScalarType.Float64).sum([0]).data<double>().ToArray());
        Assert.False(verdict.Passed);
        Assert.Contains("outside [0, 1]", verdict.Feedback);
    }

    [Fact]
    public void The_overall_accuracy_repeated_is_named()
    {
        var verdict = Lesson05.AccuracyByPosition((l, t) =>
            Enumerable.Repeat(l.argmax(-1).eq(t).to_type(ScalarType.Float64).mean().item<double>(), (int)t.shape[1]).ToArray());
        Assert.False(verdict.Passed);
        Assert.Contains("overall accuracy", verdict.Feedback);
    }

    [Fact]
    public void The_argmax_over_the_wrong_axis_fails()
    {
        var verdict = Lesson05.AccuracyByPosition((l, t) => l.argmax(1).eq(t).to_type(ScalarType.Float64).mean([0]).data<double>().ToArray());
        Assert.False(verdict.Passed);
        Assert.Contains("which axis holds the vocabulary", verdict.Feedback);
    }

    [Fact]
    public void Integer_division_is_named()
    {
        var verdict = Lesson05.AccuracyByPosition((l, t) =>
        {
            var right = l.argmax(-1).eq(t).sum([0]).data<long>().ToArray();
            return right.Select(r => (double)(r / t.shape[0])).ToArray();
        });
        Assert.False(verdict.Passed);
        Assert.Contains("rounds down", verdict.Feedback);
    }
}
