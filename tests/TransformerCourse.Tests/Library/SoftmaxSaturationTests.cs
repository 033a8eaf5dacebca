using TorchSharp;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class SoftmaxSaturationTests : TorchTest
{
    [Fact]
    public void Entropy_of_uniform_rows_is_ln_n_and_of_one_hot_rows_is_zero()
    {
        var weights = tensor(new float[,] { { 0.25f, 0.25f, 0.25f, 0.25f }, { 0f, 1f, 0f, 0f } });
        var h = SoftmaxSaturation.Entropy(weights).data<float>().ToArray();
        Assert.Equal(Math.Log(4), h[0], 5);
        Assert.Equal(0.0, h[1], 6);
    }

    [Fact]
    public void Entropy_keeps_leading_dimensions()
    {
        var weights = randn(2, 3, 5).softmax(-1);
        Assert.Equal([2L, 3L], SoftmaxSaturation.Entropy(weights).shape);
    }

    [Fact]
    public void Mean_entropy_falls_as_scores_grow()
    {
        var scores = randn(16, 8);
        Assert.True(SoftmaxSaturation.MeanEntropy(scores * 10) < SoftmaxSaturation.MeanEntropy(scores));
    }

    [Fact]
    public void Score_gradient_matches_the_softmax_jacobian()
    {
        var scores = randn(3, 6, dtype: ScalarType.Float64);
        var upstream = randn(3, 6, dtype: ScalarType.Float64);
        var norms = SoftmaxSaturation.ScoreGradientNorms(scores, upstream);
        // Closed form: (diag(p) − p pᵀ) g = p ⊙ (g − p·g).
        var p = scores.softmax(-1);
        var expected = (p * (upstream - (p * upstream).sum(-1, keepdim: true))).norm(-1);
        Assert.True(norms.allclose(expected, rtol: 1e-9, atol: 1e-12));
        Assert.False(scores.requires_grad);
    }

    [Fact]
    public void Score_gradient_vanishes_for_a_saturated_softmax()
    {
        var scores = tensor(new float[] { 100f, 0f, 0f, 0f });
        var upstream = tensor(new float[] { 1f, -1f, 2f, 0.5f });
        Assert.True(SoftmaxSaturation.ScoreGradientNorms(scores, upstream).item<float>() < 1e-6);
    }

    [Fact]
    public void Score_gradient_rejects_mismatched_upstream()
    {
        var e = Assert.Throws<ArgumentException>(() => SoftmaxSaturation.ScoreGradientNorms(zeros(2, 4), zeros(2, 5)));
        Assert.Equal("upstream", e.ParamName);
        Assert.Contains("[2, 5]", e.Message);
    }
}
