using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Models;
using TransformerCourse.Training;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class SelfAttentionTaggerTests : TorchTest
{
    static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void Neighbours_and_max_targets_follow_the_closed_form()
    {
        var task = new NeighboursAndMaxTask(vocabSize: 10, length: 6, seed: 3);
        Assert.Equal(18, task.TargetLength);
        Assert.Equal(["left neighbour", "right neighbour", "largest token"], NeighboursAndMaxTask.Lookups);
        using var batch = task.Sample(5);
        Assert.Equal(new long[] { 5, 6 }, batch.Source.shape);
        Assert.Equal(new long[] { 5, 18 }, batch.Target.shape);
        Assert.True(batch.Target[.., ..6].eq(batch.Source.roll(1, 1)).all().item<bool>());
        Assert.True(batch.Target[.., 6..12].eq(batch.Source.roll(-1, 1)).all().item<bool>());
        Assert.True(batch.Target[.., 12..].eq(batch.Source.max(1).values.unsqueeze(1).expand(5, 6)).all().item<bool>());
        var e = Assert.Throws<ArgumentException>(() => new NeighboursAndMaxTask(10, 2, 0));
        Assert.Equal("length", e.ParamName);
    }

    [Fact]
    public void Gives_slot_major_logits_and_per_head_weights()
    {
        var model = new SelfAttentionTagger(vocabSize: 7, width: 12, heads: 3, slots: 2, positionKind: PositionKind.Sinusoidal);
        using var result = model.ForwardWithWeights(randint(0, 7, [4, 5]));
        Assert.Equal(new long[] { 4, 10, 7 }, result.Output.shape);
        Assert.Equal(new long[] { 4, 3, 5, 5 }, result.Weights.shape);
        Assert.True(MaxDiff(result.Weights.sum(-1), ones(4, 3, 5)) < 1e-5);
        // Sinusoidal positions take any length; learned ones stop at maxLength and say so.
        Assert.Equal(new long[] { 1, 80, 7 }, model.forward(randint(0, 7, [1, 40])).shape);
        var learned = new SelfAttentionTagger(7, 12, 3, maxLength: 8);
        Assert.NotNull(learned.LearnedPositions);
        var e = Assert.Throws<ArgumentException>(() => learned.forward(randint(0, 7, [2, 9])));
        Assert.Equal("source", e.ParamName);
        Assert.Contains("[2, 9]", e.Message);
        Assert.Throws<ArgumentException>(() => new SelfAttentionTagger(7, 13, 1, positionKind: PositionKind.Sinusoidal));
    }

    [Fact]
    public void Without_positions_it_only_sees_a_bag_of_tokens()
    {
        using var noGrad = no_grad();
        var model = new SelfAttentionTagger(9, 8, 2, positionKind: PositionKind.None);
        var tokens = tensor(new long[] { 1, 4, 4, 7, 2 }).unsqueeze(0);
        var perm = tensor(new long[] { 2, 0, 4, 1, 3 });
        // Permuting the input permutes the outputs: f(Px) = P f(x).
        Assert.True(MaxDiff(model.forward(tokens.index_select(1, perm)), model.forward(tokens).index_select(1, perm)) < 1e-5);
    }

    [Fact]
    public void Three_heads_learn_the_three_lookups()
    {
        manual_seed(1);
        var model = new SelfAttentionTagger(16, 48, 3, NeighboursAndMaxTask.Slots, PositionKind.Learned, maxLength: 8);
        SequenceTrainer.Fit(model, new NeighboursAndMaxTask(16, 8, seed: 1), steps: 400, batchSize: 64, learningRate: 3e-3);
        using var noGrad = no_grad();
        using var batch = new NeighboursAndMaxTask(16, 8, seed: 2).Sample(256);
        var accuracy = model.forward(batch.Source).argmax(-1).eq(batch.Target).to_type(ScalarType.Float32).mean().item<float>();
        Assert.True(accuracy > 0.95, $"accuracy {accuracy}");
    }

    [Fact]
    public void Head_ablation_zeroes_that_heads_share_and_restores_it()
    {
        using var noGrad = no_grad();
        var mha = new MultiHeadAttention(12, 3);
        var x = randn(2, 4, 12);
        var before = mha.forward(x, x, x).Output;
        var block1 = mha.OutputProjection.weight![.., 4..8].clone();   // the columns of W^O that read head 1
        using (var ablation = HeadAblation.Remove(mha, 1))
        {
            Assert.Equal(1, ablation.Head);
            var without = mha.forward(x, x, x).Output;
            // What went missing is head 1's output times its block of W^O.
            var q = MultiHeadAttention.SplitHeads(mha.QueryProjection.forward(x), 3);
            var k = MultiHeadAttention.SplitHeads(mha.KeyProjection.forward(x), 3);
            var v = MultiHeadAttention.SplitHeads(mha.ValueProjection.forward(x), 3);
            var head1 = TransformerCourse.Attention.ScaledDotProductAttention.Compute(q, k, v).Output[.., 1];
            using (var all0 = HeadAblation.Remove(mha, 0))
            using (var all2 = HeadAblation.Remove(mha, 2))
                Assert.True(MaxDiff(mha.forward(x, x, x).Output, mha.OutputProjection.bias!.expand(2, 4, 12)) < 1e-6);
            Assert.True(MaxDiff(without, mha.forward(x, x, x).Output) < 1e-6);
            Assert.True(MaxDiff(before, without) > 1e-3);
            Assert.True(MaxDiff(before - without, head1.matmul(block1.T)) < 1e-5);
        }
        Assert.True(MaxDiff(mha.forward(x, x, x).Output, before) == 0);
        var e = Assert.Throws<ArgumentException>(() => HeadAblation.Remove(mha, 3));
        Assert.Equal("head", e.ParamName);
        Assert.Contains("3 heads", e.Message);
    }
}
