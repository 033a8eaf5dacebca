using TorchSharp;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class PositionalEncodingTests : TorchTest
{
    static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void Sinusoidal_table_has_the_known_values()
    {
        var pe = SinusoidalPositionalEncoding.Table(50, 8);
        Assert.Equal(new long[] { 50, 8 }, pe.shape);
        Assert.Equal(ScalarType.Float32, pe.dtype);
        Assert.Equal(new float[] { 0, 1, 0, 1, 0, 1, 0, 1 }, pe[0].data<float>().ToArray());
        // Position 3, i = 1: angle 3 / 10000^(2/8) = 3 / 10 = 0.3.
        Assert.Equal(Math.Sin(0.3), pe[3, 2].item<float>(), 1e-6);
        Assert.Equal(Math.Cos(0.3), pe[3, 3].item<float>(), 1e-6);
        Assert.Equal(Math.Sin(1.0), pe[1, 0].item<float>(), 1e-6);
        Assert.True(pe.abs().max().item<float>() <= 1f);
    }

    [Fact]
    public void Any_length_any_even_width_and_odd_width_is_named()
    {
        Assert.Equal(new long[] { 5000, 6 }, SinusoidalPositionalEncoding.Table(5000, 6).shape);
        Assert.Equal(new long[] { 1, 2 }, SinusoidalPositionalEncoding.Table(1, 2).shape);
        var e = Assert.Throws<ArgumentException>(() => SinusoidalPositionalEncoding.Table(10, 7));
        Assert.Equal("width", e.ParamName);
        Assert.Contains("7", e.Message);
        // The same table whatever the length: a prefix of a longer one.
        Assert.True(MaxDiff(SinusoidalPositionalEncoding.Table(20, 16), SinusoidalPositionalEncoding.Table(100, 16)[..20]) == 0);
    }

    [Fact]
    public void Dot_product_of_two_positions_depends_only_on_their_distance()
    {
        var pe = SinusoidalPositionalEncoding.Table(64, 32);
        var a = pe[5].dot(pe[12]).item<float>();
        var b = pe[40].dot(pe[47]).item<float>();
        Assert.Equal(a, b, 1e-4);
        Assert.True(pe[5].dot(pe[6]).item<float>() > pe[5].dot(pe[25]).item<float>());
    }

    [Fact]
    public void Attention_without_positions_is_permutation_equivariant_and_with_them_is_not()
    {
        using var noGrad = no_grad();
        var mha = new MultiHeadAttention(16, 4);
        var x = randn(1, 7, 16);
        var perm = tensor(new long[] { 3, 0, 6, 1, 5, 2, 4 });
        Tensor SelfAttend(Tensor input) => mha.forward(input, input, input).Output;
        // f(P x) = P f(x): each output row follows its input row.
        Assert.True(MaxDiff(SelfAttend(x.index_select(1, perm)), SelfAttend(x).index_select(1, perm)) < 1e-5);
        // With positions added after permuting, the rows know where they are and the identity breaks.
        var pe = SinusoidalPositionalEncoding.Table(7, 16).unsqueeze(0);
        Assert.True(MaxDiff(SelfAttend(x.index_select(1, perm) + pe), SelfAttend(x + pe).index_select(1, perm)) > 1e-2);
    }

    [Fact]
    public void Learned_embedding_adds_one_trainable_vector_per_position()
    {
        var learned = new LearnedPositionalEmbedding(10, 8);
        Assert.Equal(80, learned.parameters().Sum(p => p.NumberOfElements));
        var x = randn(2, 4, 8);
        Assert.True(MaxDiff(learned.forward(x), x + learned.Weight[..4]) == 0);
        var e = Assert.Throws<ArgumentException>(() => learned.forward(randn(2, 11, 8)));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("[2, 11, 8]", e.Message);
        Assert.Contains("10", e.Message);
    }
}
