using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 4's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson04ExerciseTests : TorchTest
{
    [Fact]
    public void Sliding_window_reference_passes() =>
        Assert.True(Lesson04.SlidingWindowMask((n, w) => Masks.Combine(Masks.Causal(n), ones(n, n, dtype: ScalarType.Bool).triu(-(w - 1)))).Passed);

    [Fact]
    public void Sliding_window_placeholder_fails_naming_the_missing_window()
    {
        var verdict = Lesson04.SlidingWindowMask((n, _) => Masks.Causal(n));
        Assert.False(verdict.Passed);
        Assert.Contains("not hidden yet", verdict.Feedback);
    }

    [Theory]
    [InlineData(0, "too wide")]    // triu(-w): one key too many
    [InlineData(2, "too narrow")]  // triu(-(w - 2)): one key too few
    public void Sliding_window_off_by_one_is_named(int diagonalShift, string diagnosis)
    {
        var verdict = Lesson04.SlidingWindowMask((n, w) => Masks.Combine(Masks.Causal(n), ones(n, n, dtype: ScalarType.Bool).triu(-w + diagonalShift)));
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    [Fact]
    public void Sliding_window_without_the_causal_part_is_named()
    {
        var verdict = Lesson04.SlidingWindowMask((n, w) => ones(n, n, dtype: ScalarType.Bool).triu(-(w - 1)));
        Assert.False(verdict.Passed);
        Assert.Contains("future", verdict.Feedback);
    }

    [Fact]
    public void Sliding_window_as_numbers_is_named()
    {
        var verdict = Lesson04.SlidingWindowMask((n, w) => Masks.Combine(Masks.Causal(n), ones(n, n, dtype: ScalarType.Bool).triu(-(w - 1))).to_type(ScalarType.Int32));
        Assert.False(verdict.Passed);
        Assert.Contains("boolean", verdict.Feedback);
    }

    // The notebook's reference: rows with no visible key get finite scores before the softmax and zeros after it.
    static Tensor Reference(Tensor scores, Tensor mask)
    {
        var rowHasKey = mask.isfinite().any(-1, keepdim: true);
        return (scores + mask).where(rowHasKey, 0.0).softmax(-1).where(rowHasKey, 0.0);
    }

    [Fact]
    public void Safe_softmax_reference_passes() => Assert.True(Lesson04.SafeSoftmax(Reference).Passed);

    [Fact]
    public void Safe_softmax_placeholder_fails_naming_the_NaN()
    {
        var verdict = Lesson04.SafeSoftmax((s, m) => (s + m).softmax(-1));
        Assert.False(verdict.Passed);
        Assert.Contains("NaN", verdict.Feedback);
    }

    [Fact]
    public void Zeroing_only_after_the_softmax_fails_on_the_gradient()
    {
        // The most likely edit of the placeholder: the forward pass is right, the backward pass is NaN.
        var verdict = Lesson04.SafeSoftmax((s, m) => (s + m).softmax(-1).where(m.isfinite().any(-1, keepdim: true), 0.0));
        Assert.False(verdict.Passed);
        Assert.Contains("gradient", verdict.Feedback);
    }

    [Fact]
    public void Replacing_NaN_after_the_softmax_fails_on_the_gradient()
    {
        var verdict = Lesson04.SafeSoftmax((s, m) => (s + m).softmax(-1).nan_to_num(0.0));
        Assert.False(verdict.Passed);
        Assert.Contains("gradient", verdict.Feedback);
    }

    [Fact]
    public void Deciding_emptiness_from_key_0_is_named()
    {
        // Key 0 is a pad in every sequence of the probe, so this zeroes rows that do see real keys.
        var verdict = Lesson04.SafeSoftmax((s, m) =>
        {
            var rowHasKey = m.narrow(-1, 0, 1).isfinite();
            return (s + m).where(rowHasKey, 0.0).softmax(-1).where(rowHasKey, 0.0);
        });
        Assert.False(verdict.Passed);
        Assert.Contains("rows that do have visible keys came out all zeros", verdict.Feedback);
    }

    [Fact]
    public void Deciding_emptiness_per_sequence_is_named()
    {
        // Every sequence of the probe has some visible key, so no row is treated as empty.
        var verdict = Lesson04.SafeSoftmax((s, m) =>
        {
            var sequenceHasKey = m.isfinite().flatten(-2).any(-1).unsqueeze(-1).unsqueeze(-1);
            return (s + m).where(sequenceHasKey, 0.0).softmax(-1).where(sequenceHasKey, 0.0);
        });
        Assert.False(verdict.Passed);
        Assert.Contains("NaN", verdict.Feedback);
    }

    [Fact]
    public void Masking_after_the_softmax_fails()
    {
        var verdict = Lesson04.SafeSoftmax((s, m) => s.softmax(-1) * m.isfinite().to_type(s.dtype));
        Assert.False(verdict.Passed);
        Assert.Contains("softmax over just those keys", verdict.Feedback);
    }

    [Fact]
    public void A_large_negative_fill_leaves_empty_rows_uniform_and_fails()
    {
        var verdict = Lesson04.SafeSoftmax((s, m) => (s + m.clamp_min(-1e9)).softmax(-1));
        Assert.False(verdict.Passed);
        Assert.Contains("all zeros", verdict.Feedback);
    }
}
