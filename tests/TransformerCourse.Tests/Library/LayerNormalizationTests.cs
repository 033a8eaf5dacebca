using TorchSharp;
using TransformerCourse.Attention;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class LayerNormalizationTests : TorchTest
{
    static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void Matches_TorchSharp_LayerNorm_values_and_gradients()
    {
        var ours = new LayerNormalization(12);
        var builtIn = nn.LayerNorm(12);
        using (no_grad())
        {
            ours.Weight.copy_(randn(12));
            ours.Bias.copy_(randn(12));
            builtIn.weight!.copy_(ours.Weight);
            builtIn.bias!.copy_(ours.Bias);
        }
        var x1 = (randn(3, 5, 12) * 4 + 2).requires_grad_();
        var x2 = x1.detach().clone().requires_grad_();
        var upstream = randn(3, 5, 12);
        var y1 = ours.forward(x1);
        var y2 = builtIn.forward(x2);
        Assert.True(MaxDiff(y1, y2) < 1e-5);
        (y1 * upstream).sum().backward();
        (y2 * upstream).sum().backward();
        Assert.True(MaxDiff(x1.grad!, x2.grad!) < 1e-5);
        Assert.True(MaxDiff(ours.Weight.grad!, builtIn.weight!.grad!) < 1e-5);
        Assert.True(MaxDiff(ours.Bias.grad!, builtIn.bias!.grad!) < 1e-5);
        Assert.Equal(["weight", "bias"], ours.named_parameters().Select(p => p.name).ToArray());
        var e = Assert.Throws<ArgumentException>(() => ours.forward(randn(2, 10)));
        Assert.Contains("[2, 10]", e.Message);
        Assert.Contains("12", e.Message);
    }

    [Fact]
    public void Residual_connection_places_the_norm_before_or_after()
    {
        var x = randn(2, 3, 8);
        var sublayer = nn.Linear(8, 8);
        var post = new ResidualConnection(8, NormPlacement.Post);
        var pre = new ResidualConnection(8, NormPlacement.Pre);
        var none = new ResidualConnection(8, NormPlacement.None);
        var norm = nn.LayerNorm(8);
        Assert.True(MaxDiff(post.forward(x, sublayer.forward), norm.forward(x + sublayer.forward(x))) < 1e-5);
        Assert.True(MaxDiff(pre.forward(x, sublayer.forward), x + sublayer.forward(norm.forward(x))) < 1e-5);
        Assert.True(MaxDiff(none.forward(x, sublayer.forward), x + sublayer.forward(x)) == 0);
        Assert.Equal(16, post.parameters().Sum(p => p.NumberOfElements));
        Assert.Empty(none.parameters());
        // Dropout acts on the sub-layer's output only while training.
        var dropped = new ResidualConnection(8, NormPlacement.None, dropout: 0.5);
        dropped.eval();
        Assert.True(MaxDiff(dropped.forward(x, sublayer.forward), x + sublayer.forward(x)) == 0);
    }

    [Fact]
    public void Post_LN_blocks_output_normalised_vectors_and_Pre_LN_blocks_do_not()
    {
        using var noGrad = no_grad();
        var x = randn(2, 5, 16) * 3;
        var post = new EncoderBlock(16, 4, 32, norm: NormPlacement.Post);
        var pre = new EncoderBlock(16, 4, 32, norm: NormPlacement.Pre);
        var yPost = post.forward(x);
        var yPre = pre.forward(x);
        Assert.True(yPost.mean([-1]).abs().max().item<float>() < 1e-5);
        Assert.True(MaxDiff(yPost.var([-1], unbiased: false), ones(2, 5)) < 1e-3);
        Assert.True(MaxDiff(yPre.var([-1], unbiased: false), ones(2, 5)) > 0.5);
        long expected = MultiHeadAttention.ParameterCount(16) + PositionwiseFeedForward.ParameterCount(FeedForwardKind.Relu, 16, 32) + 4 * 16;
        Assert.Equal(expected, post.parameters().Sum(p => p.NumberOfElements));
        Assert.Equal(expected, pre.parameters().Sum(p => p.NumberOfElements));
    }

    [Fact]
    public void Encoder_block_ignores_padded_keys()
    {
        using var noGrad = no_grad();
        var block = new EncoderBlock(16, 4, 32);
        var x = randn(1, 6, 16);
        var changed = x.clone();
        changed[0, 4..] = randn(2, 16);
        var mask = Masks.Padding([4], 6);
        var (a, weights) = block.ForwardWithAttention(x, mask);
        var b = block.forward(changed, mask);
        Assert.True(MaxDiff(a[0, ..4], b[0, ..4]) < 1e-5);
        Assert.Equal(new long[] { 1, 4, 6, 6 }, weights.shape);
        Assert.Equal(0f, weights[.., .., .., 4..].abs().sum().item<float>());
    }
}
