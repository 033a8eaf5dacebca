using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Models;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class ModelAndDataTests : TorchTest
{
    [Fact]
    public void Reversal_targets_are_reversed_and_seeded()
    {
        using var a = new ReversalTask(10, 6, seed: 3).Sample(4);
        using var b = new ReversalTask(10, 6, seed: 3).Sample(4);
        using var c = new ReversalTask(10, 6, seed: 4).Sample(4);
        Assert.True(a.Source.eq(b.Source).all().item<bool>());
        Assert.False(a.Source.eq(c.Source).all().item<bool>());
        Assert.True(a.Target.eq(a.Source.flip(1)).all().item<bool>());
    }

    [Fact]
    public void Key_value_retrieval_asks_for_a_stored_value()
    {
        var task = new KeyValueRetrievalTask(pairs: 4, numKeys: 8, numValues: 5, seed: 1);
        using var batch = task.Sample(16);
        Assert.Equal(new long[] { 16, 9 }, batch.Source.shape);
        for (int b = 0; b < 16; b++)
        {
            var row = batch.Source[b].data<long>().ToArray();
            var keys = row.Where((_, i) => i % 2 == 0 && i < 8).ToArray();
            Assert.Equal(4, keys.Distinct().Count());
            int at = Array.IndexOf(keys, row[8]);
            Assert.True(at >= 0);
            Assert.Equal(row[2 * at + 1], batch.Target[b, 0].item<long>());
        }
        Assert.Throws<ArgumentException>(() => new KeyValueRetrievalTask(pairs: 5, numKeys: 4, numValues: 3, seed: 0));
    }

    [Fact]
    public void Models_produce_logits_of_the_expected_shape()
    {
        using var batch = new ReversalTask(7, 5, seed: 0).Sample(3);
        var attention = new AlignmentAttentionModel(7, 5, 5, 16);
        using var result = attention.ForwardWithWeights(batch.Source);
        Assert.Equal(new long[] { 3, 5, 7 }, result.Output.shape);
        Assert.Equal(new long[] { 3, 5, 5 }, result.Weights.shape);
        Assert.Equal(new long[] { 3, 5, 7 }, new LstmBaseline(7, 5, 16, 32).forward(batch.Source).shape);
        var e = Assert.Throws<ArgumentException>(() => attention.forward(zeros(3, 6, dtype: ScalarType.Int64)));
        Assert.Contains("length 6", e.Message);
    }

    [Fact]
    public void The_attention_model_learns_to_reverse()
    {
        manual_seed(0);
        var task = new ReversalTask(8, 6, seed: 1);
        var model = new AlignmentAttentionModel(8, 6, 6, 32);
        var losses = SequenceTrainer.Fit(model, task, steps: 250, batchSize: 64, learningRate: 1e-2);
        Assert.True(losses[^1] < losses[0] / 4, $"loss went from {losses[0]} to {losses[^1]}");
        Assert.True(SequenceTrainer.ExactMatch(model, new ReversalTask(8, 6, seed: 99)) > 0.9);
    }

    [Fact]
    public void The_recurrent_loop_matches_a_hand_computed_step()
    {
        var x = randn(2, 3, 4);
        var (wx, wh) = (randn(4, 5), randn(5, 5));
        var states = RecurrentLoop.Run(x, wx, wh);
        var h1 = x[.., 0].matmul(wx).tanh();
        var h2 = (x[.., 1].matmul(wx) + h1.matmul(wh)).tanh();
        Assert.True((states[.., 1] - h2).abs().max().item<float>() < 1e-5);
        Assert.Throws<ArgumentException>(() => RecurrentLoop.Run(x, randn(3, 5), wh));
    }
}
