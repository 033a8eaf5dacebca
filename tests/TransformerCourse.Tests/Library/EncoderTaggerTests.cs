using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Models;
using TransformerCourse.Training;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class EncoderTaggerTests : TorchTest
{
    [Fact]
    public void Stacks_blocks_with_a_final_norm_only_for_Pre_LN()
    {
        var post = new EncoderTagger(vocabSize: 11, width: 16, heads: 4, feedForwardWidth: 32, layers: 3, NormPlacement.Post);
        var pre = new EncoderTagger(11, 16, 4, 32, 3, NormPlacement.Pre);
        var tokens = randint(0, 11, [2, 7]);
        Assert.Equal(new long[] { 2, 7, 11 }, post.forward(tokens).shape);
        Assert.Equal(3, post.Blocks.Count);
        var config = new TransformerConfig(11, Width: 16, Heads: 4, FeedForwardWidth: 32);
        long blocks = 3 * EncoderBlock.ParameterCount(config), embeddingAndReadout = 11 * 16 + (16 * 11 + 11);
        Assert.Equal(blocks + embeddingAndReadout, post.parameters().Sum(p => p.numel()));
        Assert.Equal(blocks + embeddingAndReadout + 2 * 16, pre.parameters().Sum(p => p.numel()));
        // Both end in a LayerNorm with γ = 1, β = 0 at initialisation: every vector has mean 0 and variance 1.
        using var noGrad = no_grad();
        foreach (var model in new[] { post, pre })
        {
            var h = model.Encode(tokens);
            Assert.True(h.mean([-1]).abs().max().item<float>() < 1e-5);
            Assert.True((h.var([-1], unbiased: false) - 1).abs().max().item<float>() < 1e-3);
        }
        Assert.Throws<ArgumentException>(() => new EncoderTagger(11, 15, 3, 32, 2, NormPlacement.Pre));
    }

    [Fact]
    public void Warmup_trainer_ramps_the_rate_and_without_warmup_is_the_plain_trainer()
    {
        Assert.Equal(0.25, WarmupTrainer.RateAt(1, 1.0, 4), 12);
        Assert.Equal(1.0, WarmupTrainer.RateAt(4, 1.0, 4), 12);
        Assert.Equal(1.0, WarmupTrainer.RateAt(9, 1.0, 4), 12);
        Assert.Equal(0.5, WarmupTrainer.RateAt(1, 0.5, 0), 12);
        List<double> Train(bool warm)
        {
            manual_seed(5);
            var model = new SelfAttentionTagger(8, 8, 2, maxLength: 6);
            var task = new ReversalTask(8, 6, seed: 1);
            return warm ? WarmupTrainer.Fit(model, task, 5, 16, 1e-2, warmupSteps: 0) : SequenceTrainer.Fit(model, task, 5, 16, 1e-2);
        }
        Assert.Equal(Train(false), Train(true));
        var e = Assert.Throws<ArgumentException>(() => WarmupTrainer.Fit(new SelfAttentionTagger(8, 8, 2), new ReversalTask(8, 6, 1), 5, 16, 1e-2, -1));
        Assert.Equal("warmupSteps", e.ParamName);
    }
}
