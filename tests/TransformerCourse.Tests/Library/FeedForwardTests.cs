using TorchSharp;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class FeedForwardTests : TorchTest
{
    static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Theory]
    [InlineData(FeedForwardKind.Relu, 2 * 8 * 32 + 32 + 8)]
    [InlineData(FeedForwardKind.Gelu, 2 * 8 * 32 + 32 + 8)]
    [InlineData(FeedForwardKind.SwiGlu, 3 * 8 * 32)]
    public void Counts_parameters_as_documented(FeedForwardKind kind, long expected)
    {
        var ffn = new PositionwiseFeedForward(8, 32, kind);
        Assert.Equal(expected, ffn.parameters().Sum(p => p.NumberOfElements));
        Assert.Equal(expected, PositionwiseFeedForward.ParameterCount(kind, 8, 32));
    }

    [Fact]
    public void Computes_the_three_formulas()
    {
        using var noGrad = no_grad();
        var x = randn(2, 5, 8);
        Tensor W(PositionwiseFeedForward f, string name) => f.named_parameters().Single(p => p.name == name).parameter;
        var relu = new PositionwiseFeedForward(8, 32, FeedForwardKind.Relu);
        var hidden = x.matmul(W(relu, "linear1.weight").T) + W(relu, "linear1.bias");
        Assert.True(MaxDiff(relu.forward(x), hidden.clamp_min(0).matmul(W(relu, "linear2.weight").T) + W(relu, "linear2.bias")) < 1e-5);
        var gelu = new PositionwiseFeedForward(8, 32, FeedForwardKind.Gelu);
        hidden = x.matmul(W(gelu, "linear1.weight").T) + W(gelu, "linear1.bias");
        var exactGelu = 0.5 * hidden * (1 + (hidden / Math.Sqrt(2)).erf());
        Assert.True(MaxDiff(gelu.forward(x), exactGelu.matmul(W(gelu, "linear2.weight").T) + W(gelu, "linear2.bias")) < 1e-5);
        var swiglu = new PositionwiseFeedForward(8, 32, FeedForwardKind.SwiGlu);
        var gate = x.matmul(W(swiglu, "linear1.weight").T);
        var swish = gate * gate.sigmoid();
        var expected = (swish * x.matmul(W(swiglu, "linear_v.weight").T)).matmul(W(swiglu, "linear2.weight").T);
        Assert.True(MaxDiff(swiglu.forward(x), expected) < 1e-5);
        Assert.Equal(2_099_712, PositionwiseFeedForward.ParameterCount(FeedForwardKind.Relu, 512, 2048));
    }

    [Fact]
    public void Acts_on_each_position_alone_and_drops_out_only_while_training()
    {
        var ffn = new PositionwiseFeedForward(8, 32, FeedForwardKind.Gelu, dropout: 0.5);
        ffn.eval();
        var x = randn(1, 4, 8);
        var changed = x.clone();
        changed[0, 2] = randn(8);
        var (a, b) = (ffn.forward(x), ffn.forward(changed));
        Assert.True(MaxDiff(a[0, ..2], b[0, ..2]) == 0 && MaxDiff(a[0, 3], b[0, 3]) == 0);
        Assert.True(MaxDiff(a, ffn.forward(x)) == 0);
        ffn.train();
        Assert.True(MaxDiff(ffn.forward(x), ffn.forward(x)) > 0);
        var e = Assert.Throws<ArgumentException>(() => ffn.forward(randn(2, 7)));
        Assert.Contains("[2, 7]", e.Message);
    }
}
