using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using TransformerCourse.Transformer;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 9's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson09ExerciseTests : TorchTest
{
    static long Relu(int d, int f) => 2L * d * f + f + d;

    [Fact]
    public void Matching_width_reference_passes() =>
        Assert.True(Lesson09.MatchingSwiGluWidth((d, f) => (int)Math.Round(Relu(d, f) / (3.0 * d))).Passed);

    [Fact]
    public void Matching_width_placeholder_is_named()
    {
        var verdict = Lesson09.MatchingSwiGluWidth((_, f) => f);
        Assert.False(verdict.Passed);
        Assert.Contains("1.5 times", verdict.Feedback);
    }

    [Fact]
    public void Integer_division_is_named_as_truncation()
    {
        var verdict = Lesson09.MatchingSwiGluWidth((d, f) => (int)(Relu(d, f) / (3L * d)));
        Assert.False(verdict.Passed);
        Assert.Contains("rounds down", verdict.Feedback);
    }

    [Fact]
    public void Rounding_up_is_named()
    {
        var verdict = Lesson09.MatchingSwiGluWidth((d, f) => (int)Math.Ceiling(Relu(d, f) / (3.0 * d)));
        Assert.False(verdict.Passed);
        Assert.Contains("rounds up", verdict.Feedback);
    }

    [Fact]
    public void Two_thirds_rule_without_biases_is_named()
    {
        var verdict = Lesson09.MatchingSwiGluWidth((_, f) => (int)Math.Round(2.0 * f / 3));
        Assert.False(verdict.Passed);
        Assert.Contains("without biases", verdict.Feedback);
    }

    [Fact]
    public void A_hard_coded_width_fails() => Assert.False(Lesson09.MatchingSwiGluWidth((_, _) => 1367).Passed);

    static double Reference(long d, long h, long n) => 8.0 * n * d * d + 4.0 * n * n * d + 6.0 * n * d * h;

    [Fact]
    public void Swiglu_flops_reference_passes() => Assert.True(Lesson09.SwiGluBlockFlops(Reference).Passed);

    [Fact]
    public void Swiglu_flops_placeholder_is_named()
    {
        var verdict = Lesson09.SwiGluBlockFlops(BlockFlops.ByFormula);
        Assert.False(verdict.Passed);
        Assert.Contains("third one (the gate)", verdict.Feedback);
    }

    [Fact]
    public void Counting_multiply_adds_is_named()
    {
        var verdict = Lesson09.SwiGluBlockFlops((d, h, n) => Reference(d, h, n) / 2);
        Assert.False(verdict.Passed);
        Assert.Contains("multiply-adds", verdict.Feedback);
    }

    [Fact]
    public void Forgetting_the_quadratic_term_is_named()
    {
        var verdict = Lesson09.SwiGluBlockFlops((d, h, n) => 8.0 * n * d * d + 6.0 * n * d * h);
        Assert.False(verdict.Passed);
        Assert.Contains("n²", verdict.Feedback);
    }

    [Fact]
    public void Reading_the_count_off_the_module_is_forbidden()
    {
        var verdict = Lesson09.SwiGluBlockFlops((d, h, n) =>
        {
            using var block = new EncoderBlock((int)d, 1, (int)h, feedForward: FeedForwardKind.SwiGlu);
            return BlockFlops.FromModule(block, (int)n);
        });
        Assert.False(verdict.Passed);
        Assert.Contains("BlockFlops.FromModule", verdict.Feedback);
    }

    [Fact]
    public void Block_flops_from_the_module_match_the_formula_and_reject_bad_lengths()
    {
        using var block = new EncoderBlock(32, 4, 96);
        block.eval();
        Assert.Equal(BlockFlops.ByFormula(32, 96, 10), BlockFlops.FromModule(block, 10));
        var e = Assert.ThrowsAny<ArgumentException>(() => BlockFlops.FromModule(block, 0));
        Assert.Contains("n", e.ParamName);
    }
}
