using TorchSharp;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class MaskedGradientTests : TorchTest
{
    /// <summary>Left padding plus a causal mask: the first two queries have no visible key.</summary>
    static Tensor LeftPaddedCausal() =>
        Masks.Combine(Masks.Causal(5), tensor(new[] { false, false, true, true, true }).reshape(1, 1, 5));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fully_masked_rows_keep_gradients_finite_for_boolean_and_additive_masks(bool additive)
    {
        var mask = LeftPaddedCausal();
        using var q = randn(1, 5, 4).requires_grad_();
        using var k = randn(1, 5, 4).requires_grad_();
        using var v = randn(1, 5, 4).requires_grad_();
        using var result = ScaledDotProductAttention.Compute(q, k, v, additive ? Masks.ToAdditive(mask) : mask);
        result.Output.sum().backward();
        Assert.Equal(0, result.Weights.isnan().sum().item<long>());
        foreach (var grad in new[] { q.grad!, k.grad!, v.grad! })
            Assert.True(grad.isfinite().all().item<bool>(), $"a gradient has non-finite entries (additive mask: {additive})");
        // The empty rows give zero weights; the others still sum to one.
        var sums = result.Weights.sum(-1).squeeze(0).data<float>().ToArray();
        Assert.Equal(new[] { 0f, 0f }, sums[..2]);
        Assert.All(sums[2..], s => Assert.Equal(1f, s, 5));
    }

    [Fact]
    public void Masked_output_matches_the_built_in_kernel_including_empty_rows()
    {
        var mask = LeftPaddedCausal();
        using var q = randn(2, 5, 8);
        using var k = randn(2, 5, 8);
        using var v = randn(2, 5, 8);
        using var ours = ScaledDotProductAttention.Compute(q, k, v, mask);
        using var builtIn = ScaledDotProductAttention.BuiltIn(q, k, v, mask);
        Assert.True(ours.Output.allclose(builtIn, rtol: 0, atol: 1e-5));
    }
}
