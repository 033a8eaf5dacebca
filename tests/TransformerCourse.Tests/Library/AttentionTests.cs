using TorchSharp;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class AttentionTests : TorchTest
{
    static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void Matches_the_builtin_without_a_mask()
    {
        var (q, k, v) = (randn(2, 3, 5, 8), randn(2, 3, 7, 8), randn(2, 3, 7, 4));
        using var ours = ScaledDotProductAttention.Compute(q, k, v);
        Assert.True(MaxDiff(ours.Output, ScaledDotProductAttention.BuiltIn(q, k, v)) < 1e-5);
        Assert.True(MaxDiff(ours.Weights.sum(-1), ones(2, 3, 5)) < 1e-5);
    }

    [Fact]
    public void Matches_the_builtin_with_boolean_additive_and_causal_masks()
    {
        var (q, k, v) = (randn(2, 6, 8), randn(2, 6, 8), randn(2, 6, 8));
        var causal = Masks.Causal(6);
        using var ours = ScaledDotProductAttention.Compute(q, k, v, causal);
        Assert.True(MaxDiff(ours.Output, ScaledDotProductAttention.BuiltIn(q, k, v, causal: true)) < 1e-5);
        Assert.True(MaxDiff(ours.Output, ScaledDotProductAttention.BuiltIn(q, k, v, causal)) < 1e-5);
        using var additive = ScaledDotProductAttention.Compute(q, k, v, Masks.ToAdditive(causal));
        Assert.True(MaxDiff(ours.Output, additive.Output) < 1e-6);
        var padding = Masks.Padding([6, 3], 6);
        using var padded = ScaledDotProductAttention.Compute(q, k, v, padding);
        Assert.True(MaxDiff(padded.Output, ScaledDotProductAttention.BuiltIn(q, k, v, padding)) < 1e-5);
        Assert.Equal(0f, padded.Weights[1, .., 3..].abs().sum().item<float>());
    }

    [Fact]
    public void A_fully_masked_row_gives_zeros_not_nan()
    {
        var (q, k, v) = (randn(1, 3, 4), randn(1, 3, 4), randn(1, 3, 4));
        var mask = tensor(new[] { true, true, true, false, false, false, true, false, true }).reshape(1, 3, 3);
        using var r = ScaledDotProductAttention.Compute(q, k, v, mask);
        Assert.False(r.Output.isnan().any().item<bool>());
        Assert.Equal(0f, r.Output[0, 1].abs().sum().item<float>());
        Assert.Equal(0f, r.Weights[0, 1].abs().sum().item<float>());
        Assert.True(MaxDiff(r.Weights[0, 0].sum(), tensor(1f)) < 1e-6);
        using var additive = ScaledDotProductAttention.Compute(q, k, v, Masks.ToAdditive(mask));
        Assert.False(additive.Output.isnan().any().item<bool>());
    }

    [Fact]
    public void Bad_shapes_name_the_argument_and_sizes()
    {
        var e = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(randn(2, 5, 8), randn(2, 7, 6), randn(2, 7, 4)));
        Assert.Equal("key", e.ParamName);
        Assert.Contains("[2, 5, 8]", e.Message);
        Assert.Contains("[2, 7, 6]", e.Message);
        e = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(randn(5, 8), randn(7, 8), randn(6, 4)));
        Assert.Equal("value", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(randn(5, 8), randn(7, 8), randn(7, 4), Masks.Causal(5)));
        Assert.Equal("mask", e.ParamName);
        Assert.Contains("[5, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => ScaledDotProductAttention.Compute(randn(8), randn(7, 8), randn(7, 4)));
        Assert.Equal("query", e.ParamName);
    }

    [Fact]
    public void Masks_have_the_documented_meaning()
    {
        var causal = Masks.Causal(4);
        Assert.True(causal[2, 2].item<bool>() && causal[2, 0].item<bool>() && !causal[1, 3].item<bool>());
        var padding = Masks.Padding([2, 4], 4);
        Assert.Equal(new long[] { 2, 1, 4 }, padding.shape);
        Assert.Equal(6, padding.sum().item<long>());
        var both = Masks.Combine(causal, padding);
        Assert.Equal(new long[] { 2, 4, 4 }, both.shape);
        Assert.False(both[0, 3, 2].item<bool>());
        Assert.True(both[1, 3, 3].item<bool>());
        var fromTokens = Masks.FromPadToken(tensor(new long[] { 5, 6, 0, 0 }).reshape(1, 4), 0);
        Assert.Equal(2, fromTokens.sum().item<long>());
        var additive = Masks.ToAdditive(causal);
        Assert.True(double.IsNegativeInfinity(additive[0, 1].item<float>()));
        Assert.Equal(0f, additive[1, 0].item<float>());
        var e = Assert.Throws<ArgumentException>(() => Masks.Padding([2, 9], 4));
        Assert.Contains("lengths[1] = 9", e.Message);
        Assert.Throws<ArgumentException>(() => Masks.Combine(causal, Masks.Causal(3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Masks.Causal(0));
    }

    [Fact]
    public void Scoring_functions_agree_where_they_should()
    {
        var (q, k) = (randn(2, 3, 4), randn(2, 5, 4));
        var dot = new DotScore().forward(q, k);
        Assert.Equal(new long[] { 2, 3, 5 }, dot.shape);
        Assert.True(MaxDiff(dot, q.matmul(k.transpose(1, 2))) < 1e-6);
        Assert.True(MaxDiff(new ScaledDotScore().forward(q, k), dot / 2.0) < 1e-6);
        var general = new GeneralScore(4, 4);
        using (no_grad()) general.parameters().First().copy_(eye(4));
        Assert.True(MaxDiff(general.forward(q, k), dot) < 1e-6);
        var additive = new AdditiveScore(4, 6, 10);
        var scores = additive.forward(q, randn(2, 5, 6));
        Assert.Equal(new long[] { 2, 3, 5 }, scores.shape);
        Assert.Equal(20, additive.CostPerPair(4, 6));
        var e = Assert.Throws<ArgumentException>(() => new DotScore().forward(q, randn(2, 5, 6)));
        Assert.Contains("[2, 5, 6]", e.Message);
    }

    [Fact]
    public void Nadaraya_Watson_interpolates_between_nearest_neighbour_and_mean()
    {
        var x = tensor(new float[] { 0, 1, 2, 3 });
        var y = tensor(new float[] { 0, 10, 20, 30 });
        using var sharp = NadarayaWatson.Predict(x, y, tensor(new float[] { 1.1f }), 0.05);
        Assert.True(Math.Abs(sharp.Output.item<float>() - 10) < 1e-3);
        using var flat = NadarayaWatson.Predict(x, y, tensor(new float[] { 1.1f }), 1e3);
        Assert.True(Math.Abs(flat.Output.item<float>() - 15) < 1e-2);
        Assert.True(MaxDiff(flat.Weights.sum(1), ones(1)) < 1e-6);
        Assert.Throws<ArgumentOutOfRangeException>(() => NadarayaWatson.Predict(x, y, x, 0));
        var e = Assert.Throws<ArgumentException>(() => NadarayaWatson.Predict(x, y[..3], x, 1));
        Assert.Equal("trainY", e.ParamName);
    }
}
