using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using TransformerCourse.Transformer;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 9's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson09ExerciseTests : TorchTest
{
    // One Pre-LN SwiGLU block: attention 4d² + 4d, gated FFN 3dh, two LayerNorms 2·2d; one final LayerNorm 2d.
    static long Stack(int d, int heads, int h, int n) => n * (4L * d * d + 4L * d + 3L * d * h + 4L * d) + 2L * d;

    [Fact]
    public void Stack_reference_passes() => Assert.True(Lesson09.PreLnSwiGluStack(Stack).Passed);

    [Fact]
    public void Stack_placeholder_is_not_yet()
    {
        var verdict = Lesson09.PreLnSwiGluStack((_, _, _, _) => throw new NotImplementedException());
        Assert.False(verdict.Passed);
        Assert.Contains("NotImplementedException", verdict.Feedback);
    }

    [Fact]
    public void Forgetting_the_final_norm_is_named()
    {
        var verdict = Lesson09.PreLnSwiGluStack((d, H, h, n) => Stack(d, H, h, n) - 2L * d);
        Assert.False(verdict.Passed);
        Assert.Contains("after the last block is missing", verdict.Feedback);
    }

    [Fact]
    public void A_final_norm_per_layer_is_named()
    {
        var verdict = Lesson09.PreLnSwiGluStack((d, H, h, n) => n * (Stack(d, H, h, 1)));
        Assert.False(verdict.Passed);
        Assert.Contains("once per block", verdict.Feedback);
    }

    [Fact]
    public void Missing_block_norms_are_named()
    {
        var verdict = Lesson09.PreLnSwiGluStack((d, H, h, n) => n * (4L * d * d + 4L * d + 3L * d * h) + 2L * d);
        Assert.False(verdict.Passed);
        Assert.Contains("4d short per block: the two LayerNorms, or the attention biases, are missing", verdict.Feedback);
    }

    [Fact]
    public void Dropping_the_attention_biases_is_not_misdiagnosed_as_missing_norms()
    {
        // LLaMA drops its attention biases, but the block in this exercise keeps them: 4d short per block, the same
        // amount as the two LayerNorms, so the feedback must name both causes.
        var verdict = Lesson09.PreLnSwiGluStack((d, H, h, n) => n * (4L * d * d + 3L * d * h + 4L * d) + 2L * d);
        Assert.False(verdict.Passed);
        Assert.Contains("the attention biases", verdict.Feedback);
        Assert.Contains("Q, K, V and O", verdict.Feedback);
    }

    [Fact]
    public void A_relu_sized_ffn_is_named()
    {
        // The cell-29 block formula with the ⅔-rule idea missing: 2dh + h + d for the FFN.
        var verdict = Lesson09.PreLnSwiGluStack((d, H, h, n) => n * (4L * d * d + 4L * d + 2L * d * h + h + d + 4L * d) + 2L * d);
        Assert.False(verdict.Passed);
        Assert.Contains("ReLU network with biases", verdict.Feedback);
    }

    [Fact]
    public void A_count_that_grows_with_heads_is_named()
    {
        var verdict = Lesson09.PreLnSwiGluStack((d, H, h, n) => Stack(d, H, h, n) + n * 4L * d * (H - 1));
        Assert.False(verdict.Passed);
        Assert.Contains("number of heads", verdict.Feedback);
    }

    [Fact]
    public void Counting_modules_or_library_formulas_is_forbidden()
    {
        var fromModule = Lesson09.PreLnSwiGluStack((d, H, h, n) =>
        {
            using var block = new EncoderBlock(d, H, h, norm: NormPlacement.Pre, feedForward: FeedForwardKind.SwiGlu);
            return n * block.parameters().Sum(p => p.NumberOfElements) + 2L * d;
        });
        Assert.False(fromModule.Passed);
        Assert.Contains("EncoderBlock.new", fromModule.Feedback);
        var fromHelpers = Lesson09.PreLnSwiGluStack((d, H, h, n) =>
            n * (MultiHeadAttention.ParameterCount(d) + PositionwiseFeedForward.ParameterCount(FeedForwardKind.SwiGlu, d, h) + 4L * d) + 2L * d);
        Assert.False(fromHelpers.Passed);
        Assert.Contains("MultiHeadAttention.ParameterCount", fromHelpers.Feedback);
        var fromParts = Lesson09.PreLnSwiGluStack((d, H, h, n) =>
        {
            using var ffn = new PositionwiseFeedForward(d, h, FeedForwardKind.SwiGlu);
            return n * (4L * d * d + 4L * d + ffn.parameters().Sum(p => p.NumberOfElements) + 4L * d) + 2L * d;
        });
        Assert.False(fromParts.Passed);
        Assert.Contains("PositionwiseFeedForward.new", fromParts.Feedback);
    }

    [Fact]
    public void Outside_a_check_the_count_helpers_still_work() =>
        Assert.Equal(12L * 512 * 512 + 13L * 512, EncoderBlock.ParameterCount(TransformerConfig.Base()));

    static double Reference(long d, long h, long n) => 8.0 * n * d * d + 4.0 * n * n * d + 6.0 * n * d * h;

    [Fact]
    public void Swiglu_flops_reference_passes() => Assert.True(Lesson09.SwiGluBlockFlops(Reference).Passed);

    [Fact]
    public void Swiglu_flops_placeholder_is_named()
    {
        var placeholder = Lesson09.SwiGluBlockFlops((_, _, _) => throw new NotImplementedException());
        Assert.False(placeholder.Passed);
        Assert.Contains("NotImplementedException", placeholder.Feedback);
        // The ReLU block's closed form, written out (calling BlockFlops.ByFormula is refused).
        var verdict = Lesson09.SwiGluBlockFlops((d, h, n) => 8.0 * n * d * d + 4.0 * n * n * d + 4.0 * n * d * h);
        Assert.False(verdict.Passed);
        Assert.Contains("exactly the ReLU block's", verdict.Feedback);
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

    [Fact]
    public void Flops_from_the_relu_formula_plus_a_correction_is_refused()
    {
        var verdict = Lesson09.SwiGluBlockFlops((d, h, n) => BlockFlops.ByFormula(d, h, n) + 2.0 * n * d * h);
        Assert.False(verdict.Passed);
        Assert.Contains("BlockFlops.ByFormula", verdict.Feedback);
    }
}
