using TransformerCourse.Analysis;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>The KV cache's accounting (bytes, positions, multiply–adds) against the model's own counts, and the brief GQA training.</summary>
public class KvCacheCostTests : TorchTest
{
    static readonly GptConfig Config = new(VocabSize: 13, ContextLength: 32, Layers: 2, Heads: 4, Width: 32);

    [Fact]
    public void Bytes_follow_the_formula_and_published_sizes()
    {
        Assert.Equal(2L * 3 * 2 * 8 * 10 * 4, KvCacheCost.Bytes(3, 2, 8, 10, 4));
        Assert.Equal(2L * 2 * 3 * 2 * 8 * 10 * 4, KvCacheCost.Bytes(3, 2, 8, 10, 4, batch: 2));
        // LLaMA-2 70B (80 layers, 8 kv heads of width 128), 4096 tokens, 16-bit, batch 8: 10 GiB, beyond int range.
        Assert.Equal(10L * 1024 * 1024 * 1024, KvCacheCost.Bytes(80, 8, 128, 4096, 2, batch: 8));
        Assert.Contains("bytesPerElement", Assert.ThrowsAny<ArgumentException>(() => KvCacheCost.Bytes(1, 1, 1, 1, 0)).Message);
        Assert.Contains("tokens", Assert.ThrowsAny<ArgumentException>(() => KvCacheCost.Bytes(1, 1, 1, -1, 2)).Message);
    }

    [Fact]
    public void Positions_match_what_the_model_counts_while_generating()
    {
        manual_seed(0);
        var model = new GptModel(Config);
        long[] prompt = [1, 2, 3, 4, 5];
        foreach (var cached in new[] { false, true })
        {
            long before = model.PositionsComputed;
            TextSampler.Generate(model, prompt, 12, new SamplingOptions(0), useCache: cached);
            Assert.Equal(KvCacheCost.GenerationPositions(5, 12, cached), model.PositionsComputed - before);
        }
        Assert.Equal(5 + 11, KvCacheCost.GenerationPositions(5, 12, true));
    }

    [Fact]
    public void Multiply_adds_add_up_per_position_and_the_ratio_grows_with_length()
    {
        // One position with no past: 2 layers × (10·32² + 2·32·4·8 + 2·32·1) + 13·32.
        Assert.Equal(2 * (10 * 1024 + 2 * 32 * 32 + 2 * 32) + 13 * 32, KvCacheCost.ForwardMultiplyAdds(Config, 4, 0, 1));
        // Computing 6 positions at once costs the same as one at a time with the cache.
        double oneByOne = Enumerable.Range(0, 6).Sum(p => KvCacheCost.ForwardMultiplyAdds(Config, 4, p, 1));
        Assert.Equal(KvCacheCost.ForwardMultiplyAdds(Config, 4, 0, 6), oneByOne, 6);
        // Fewer kv heads: cheaper k and v projections.
        Assert.True(KvCacheCost.ForwardMultiplyAdds(Config, 1, 0, 6) < KvCacheCost.ForwardMultiplyAdds(Config, 4, 0, 6));
        double Ratio(int n) => KvCacheCost.GenerationMultiplyAdds(Config, 4, 4, n, false) / KvCacheCost.GenerationMultiplyAdds(Config, 4, 4, n, true);
        Assert.Equal(1.0, Ratio(1), 9);
        Assert.True(Ratio(8) > 1 && Ratio(24) > Ratio(8));
        Assert.Contains("context length 32", Assert.Throws<ArgumentException>(() => KvCacheCost.GenerationMultiplyAdds(Config, 4, 10, 30, true)).Message);
        Assert.Contains("kvHeads (3)", Assert.Throws<ArgumentException>(() => KvCacheCost.ForwardMultiplyAdds(Config, 3, 0, 1)).Message);
    }

    [Fact]
    public void Brief_training_lowers_the_loss_and_is_deterministic()
    {
        var text = string.Concat(Enumerable.Range(0, 300).Select(i => $"row {i % 7}: abc abd abe.\n"));
        var tokenizer = CharTokenizer.FromText(text);
        using var corpus = new TokenCorpus(tokenizer.Encode(text));
        var config = new GptConfig(tokenizer.VocabSize, 16, 1, 4, 16);
        var options = new GqaTrainingOptions(Steps: 25, BatchSize: 4, WarmupSteps: 2, EvalBatches: 2);
        var a = GqaTraining.Train(config, 2, corpus, seed: 5, options);
        var b = GqaTraining.Train(config, 2, corpus, seed: 5, options);
        Assert.Equal(a.ValidationLoss, b.ValidationLoss);
        Assert.True(a.ValidationLoss < Math.Log(tokenizer.VocabSize) - 0.3, $"{a.ValidationLoss}");
        Assert.Equal(2, a.KvHeads);
        Assert.Equal(a.Model.ParameterCount, a.Parameters);
    }
}
