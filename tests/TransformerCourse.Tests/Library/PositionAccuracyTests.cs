using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class PositionAccuracyTests : TorchTest
{
    /// <summary>Predicts a fixed function of the source: reversed, or every token replaced by 0.</summary>
    sealed class FixedModel(int vocab, bool reverse) : nn.Module<Tensor, Tensor>("FixedModel")
    {
        public override Tensor forward(Tensor source) =>
            nn.functional.one_hot(reverse ? source.flip(1) : zeros_like(source), vocab).to_type(ScalarType.Float32);
    }

    [Fact]
    public void Counts_right_tokens_per_position()
    {
        using var target = tensor(new long[] { 1, 2, 3, 1, 1, 1 }).reshape(2, 3);
        using var predicted = tensor(new long[] { 1, 2, 0, 1, 0, 1 }).reshape(2, 3);
        using var logits = nn.functional.one_hot(predicted, 4).to_type(ScalarType.Float32);
        Assert.Equal(new[] { 1.0, 0.5, 0.5 }, PositionAccuracy.FromLogits(logits, target));
    }

    [Fact]
    public void A_perfect_reverser_scores_one_everywhere_and_a_constant_scores_near_chance()
    {
        var task = new ReversalTask(10, 6, seed: 2);
        Assert.All(PositionAccuracy.Measure(new FixedModel(10, reverse: true), task, 256), a => Assert.Equal(1.0, a));
        var constant = PositionAccuracy.Measure(new FixedModel(10, reverse: false), task, 2000);
        Assert.Equal(6, constant.Length);
        Assert.All(constant, a => Assert.InRange(a, 0.05, 0.15));
    }

    [Fact]
    public void Mismatched_shapes_name_the_argument_and_sizes()
    {
        using var logits = zeros(2, 3, 4);
        using var target = zeros(2, 5, dtype: ScalarType.Int64);
        var e = Assert.Throws<ArgumentException>(() => PositionAccuracy.FromLogits(logits, target));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Throws<ArgumentException>(() => PositionAccuracy.FromLogits(zeros(2, 3), target));
        Assert.Throws<ArgumentOutOfRangeException>(() => PositionAccuracy.Measure(new FixedModel(10, true), new ReversalTask(10, 6, 0), 0));
    }
}
