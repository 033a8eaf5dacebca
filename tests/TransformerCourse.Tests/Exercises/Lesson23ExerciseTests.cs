using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 23's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson23ExerciseTests : TorchTest
{
    static Tensor Safe(Tensor m) => m.masked_fill(m.isneginf(), 0.0);

    // The notebook's reference solutions, written as a learner would.
    static (Tensor, Tensor) MergeReference(Tensor ma, Tensor la, Tensor mb, Tensor lb)
    {
        var m = ma.maximum(mb);
        return (m, la * (ma - Safe(m)).exp() + lb * (mb - Safe(m)).exp());
    }

    static (Tensor, Tensor, Tensor) UpdateReference(Tensor m, Tensor l, Tensor o, Tensor s, Tensor v)
    {
        var m2 = m.maximum(s.amax([-1L]));
        var a = (m - Safe(m2)).exp();
        var p = (s - Safe(m2).unsqueeze(-1)).exp();
        return (m2, l * a + p.sum([-1L]), o * a.unsqueeze(-1) + p.matmul(v));
    }

    static void NotYet(Verdict verdict, string diagnosis)
    {
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    [Fact]
    public void Merge_reference_passes() => Assert.True(Lesson23.MergeStates(MergeReference).Passed);

    [Fact]
    public void Merge_placeholder_fails() => NotYet(Lesson23.MergeStates((_, _, _, _) => throw new NotImplementedException()), "NotImplementedException");

    [Fact]
    public void Merge_calling_the_library_is_refused() => NotYet(Lesson23.MergeStates((a, b, c, d) => OnlineSoftmax.Merge(a, b, c, d)), "OnlineSoftmax.Merge");

    [Fact]
    public void Merge_forgetting_to_rescale_the_old_sum_is_named() =>
        NotYet(Lesson23.MergeStates((ma, la, mb, lb) => { var m = ma.maximum(mb); return (m, la + lb * (mb - Safe(m)).exp()); }), "first block's sum is not rescaled");

    [Fact]
    public void Merge_adding_raw_sums_is_named() =>
        NotYet(Lesson23.MergeStates((ma, la, mb, lb) => (ma.maximum(mb), la + lb)), "added as they are");

    [Fact]
    public void Merge_with_NaN_on_empty_blocks_is_named() =>
        NotYet(Lesson23.MergeStates((ma, la, mb, lb) => { var m = ma.maximum(mb); return (m, la * (ma - m).exp() + lb * (mb - m).exp()); }), "−∞ − (−∞) is NaN");

    [Fact]
    public void Merge_with_inverted_factors_is_named() =>
        NotYet(Lesson23.MergeStates((ma, la, mb, lb) => { var m = ma.maximum(mb); return (m, la * (Safe(m) - ma).exp() + lb * (Safe(m) - mb).exp()); }), "wrong way");

    [Fact]
    public void Merge_forgetting_the_tie_when_both_maxima_are_equal_is_caught()
    {
        // "if a's max is larger ... else if b's max is larger ...", with no branch for a tie: the second block is lost.
        static (Tensor, Tensor) NoTie(Tensor ma, Tensor la, Tensor mb, Tensor lb)
        {
            var m = ma.maximum(mb);
            var aWins = la + lb * (mb - Safe(m)).exp();
            var bWins = lb + la * (ma - Safe(m)).exp();
            return (m, where(ma.gt(mb), aWins, where(mb.gt(ma), bWins, la)));
        }
        NotYet(Lesson23.MergeStates(NoTie), "equal maxima");
    }

    [Fact]
    public void Update_reference_passes() => Assert.True(Lesson23.UpdateOutput(UpdateReference).Passed);

    [Fact]
    public void Update_placeholder_fails() => NotYet(Lesson23.UpdateOutput((_, _, _, _, _) => throw new NotImplementedException()), "NotImplementedException");

    [Fact]
    public void Update_calling_the_library_is_refused() => NotYet(Lesson23.UpdateOutput(OnlineSoftmax.Update), "OnlineSoftmax.Update");

    [Fact]
    public void Update_not_rescaling_the_old_output_is_named() =>
        NotYet(Lesson23.UpdateOutput((m, l, o, s, v) =>
        {
            var (m2, l2, _) = UpdateReference(m, l, o, s, v);
            return (m2, l2, o + (s - Safe(m2).unsqueeze(-1)).exp().matmul(v));
        }), "old output is not rescaled");

    [Fact]
    public void Update_not_rescaling_the_old_sum_is_named() =>
        NotYet(Lesson23.UpdateOutput((m, l, o, s, v) =>
        {
            var (m2, _, o2) = UpdateReference(m, l, o, s, v);
            return (m2, l + (s - Safe(m2).unsqueeze(-1)).exp().sum([-1L]), o2);
        }), "old sum is not rescaled");

    [Fact]
    public void Update_using_the_old_max_for_the_new_block_is_named() =>
        NotYet(Lesson23.UpdateOutput((m, l, o, s, v) =>
        {
            var (m2, l2, _) = UpdateReference(m, l, o, s, v);
            var a = (m - Safe(m2)).exp();
            return (m2, l2, o * a.unsqueeze(-1) + (s - Safe(m).unsqueeze(-1)).exp().matmul(v));
        }), "against the old maximum");

    [Fact]
    public void Update_with_NaN_on_the_first_or_masked_block_is_named() =>
        NotYet(Lesson23.UpdateOutput((m, l, o, s, v) =>
        {
            var m2 = m.maximum(s.amax([-1L]));
            var a = (m - m2).exp();
            var p = (s - m2.unsqueeze(-1)).exp();
            return (m2, l * a + p.sum([-1L]), o * a.unsqueeze(-1) + p.matmul(v));
        }), "NaN");

    [Fact]
    public void Update_normalising_too_early_is_named() =>
        NotYet(Lesson23.UpdateOutput((m, l, o, s, v) =>
        {
            var (m2, l2, o2) = UpdateReference(m, l, o, s, v);
            return (m2, l2, o2 / l2.masked_fill(l2.eq(0), 1).unsqueeze(-1));
        }), "already divided");
}
