using TransformerCourse.Exercises;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 28's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson28ExerciseTests : TorchTest
{
    static Tensor Distribution(Tensor logits, double temperature, int k)
    {
        var scaled = logits / temperature;
        var (largest, _) = scaled.topk(k);
        return scaled.masked_fill(scaled < largest[-1], double.NegativeInfinity).softmax(-1);
    }

    [Fact]
    public void Distribution_reference_passes() => Assert.True(Lesson28.SamplingDistribution(Distribution).Passed);

    [Fact]
    public void Distribution_placeholder_fails() => Assert.False(Lesson28.SamplingDistribution((z, t, k) => ones_like(z) / z.shape[0]).Passed);

    [Fact]
    public void Multiplying_by_the_temperature_is_named()
    {
        var verdict = Lesson28.SamplingDistribution((z, t, k) => Distribution(z * t * t, t, k));   // = softmax(z·τ) over the top k
        Assert.False(verdict.Passed);
        Assert.Contains("multiplied by the temperature", verdict.Feedback);
    }

    [Fact]
    public void Zeroing_after_the_softmax_without_renormalising_is_named()
    {
        var verdict = Lesson28.SamplingDistribution((z, t, k) =>
        {
            var p = (z / t).softmax(-1);
            var (values, _) = p.topk(k);
            return p.masked_fill(p < values[-1], 0);
        });
        Assert.False(verdict.Passed);
        Assert.Contains("renormalising", verdict.Feedback);
    }

    [Fact]
    public void Ignoring_k_is_named()
    {
        var verdict = Lesson28.SamplingDistribution((z, t, k) => (z / t).softmax(-1));
        Assert.False(verdict.Passed);
        Assert.Contains("instead of k", verdict.Feedback);
    }

    [Fact]
    public void The_library_top_k_shortcut_is_refused()
    {
        foreach (var shortcut in new Func<Tensor, double, int, Tensor>[]
        {
            (z, t, k) => Decoding.TopK(z, k, t),
            (z, t, k) => new DecodingSettings(t, TopK: k).Distribution(z),
        })
        {
            var verdict = Lesson28.SamplingDistribution(shortcut);
            Assert.False(verdict.Passed);
            Assert.Contains("Decoding.TopK", verdict.Feedback);
        }
    }

    static GptModel SmallModel()
    {
        manual_seed(3);
        var model = new GptModel(new GptConfig(VocabSize: 20, ContextLength: 24, Layers: 2, Heads: 2, Width: 16));
        model.eval();
        return model;
    }

    static readonly long[] Prompt = [3, 1, 4, 1, 5];

    static long[] Greedy(GptModel m, long[] promptIds, int count)
    {
        using var cache = new KvCache(m.Config.Layers);
        using var noGrad = no_grad();
        var ids = promptIds.ToList();
        var logits = m.Forward(tensor(promptIds).unsqueeze(0), cache);
        for (int i = 0; i < count; i++)
        {
            var next = logits[0, -1].argmax().item<long>();
            ids.Add(next);
            if (i < count - 1) logits = m.Forward(tensor(new[] { next }).unsqueeze(0), cache);
        }
        return ids.ToArray();
    }

    [Fact]
    public void Greedy_reference_passes()
    {
        using var model = SmallModel();
        Assert.True(Lesson28.GreedyWithCache(Greedy, model, Prompt).Passed);
    }

    [Fact]
    public void Greedy_placeholder_fails()
    {
        using var model = SmallModel();
        Assert.Contains("just the prompt", Lesson28.GreedyWithCache((m, p, n) => p.ToArray(), model, Prompt).Feedback);
    }

    [Fact]
    public void Greedy_without_the_cache_is_named_even_though_its_tokens_are_right()
    {
        using var model = SmallModel();
        var verdict = Lesson28.GreedyWithCache((m, p, n) =>
        {
            using var noGrad = no_grad();
            var ids = p.ToList();
            for (int i = 0; i < n; i++) ids.Add(m.forward(tensor(ids.ToArray()).unsqueeze(0))[0, -1].argmax().item<long>());
            return ids.ToArray();
        }, model, Prompt);
        Assert.False(verdict.Passed);
        Assert.Contains("fed again at every step", verdict.Feedback);
    }

    [Fact]
    public void Greedy_from_the_first_position_is_named()
    {
        using var model = SmallModel();
        var verdict = Lesson28.GreedyWithCache((m, p, n) =>
        {
            using var cache = new KvCache(m.Config.Layers);
            using var noGrad = no_grad();
            var ids = p.ToList();
            var logits = m.Forward(tensor(p).unsqueeze(0), cache);
            for (int i = 0; i < n; i++)
            {
                var next = logits[0, 0].argmax().item<long>();   // the first position instead of the last
                ids.Add(next);
                logits = m.Forward(tensor(new[] { next }).unsqueeze(0), cache);
            }
            return ids.ToArray();
        }, model, Prompt);
        Assert.False(verdict.Passed);
        Assert.Contains("LAST position", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_sampler_is_refused()
    {
        using var model = SmallModel();
        var verdict = Lesson28.GreedyWithCache((m, p, n) => TextSampler.Generate(m, p, n, new SamplingOptions(0)), model, Prompt);
        Assert.False(verdict.Passed);
        Assert.Contains("TextSampler.Generate", verdict.Feedback);
    }

    [Fact]
    public void Chunk_mask_reference_passes() =>
        Assert.True(Lesson28.ChunkMask((t, past) => ones(t, past + t, dtype: ScalarType.Bool).tril(past)).Passed);

    [Fact]
    public void Chunk_mask_placeholder_fails() =>
        Assert.False(Lesson28.ChunkMask((t, past) => ones(t, past + t, dtype: ScalarType.Bool)).Passed);

    [Theory]
    [InlineData("no offset", "sees only the first key")]
    [InlineData("square", "covering only the new keys")]
    [InlineData("no mask", "future is not masked")]
    [InlineData("inverted", "exactly inverted")]
    public void Chunk_mask_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<long, long, Tensor> wrong = mistake switch
        {
            "no offset" => (t, past) => ones(t, past + t, dtype: ScalarType.Bool).tril(),
            "square" => (t, past) => ones(t, t, dtype: ScalarType.Bool).tril(),
            "inverted" => (t, past) => ones(t, past + t, dtype: ScalarType.Bool).triu(past + 1),
            _ => (t, past) => ones(t, past + t, dtype: ScalarType.Bool),
        };
        var verdict = Lesson28.ChunkMask(wrong);
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_mask_is_refused()
    {
        var verdict = Lesson28.ChunkMask((t, past) => CausalSelfAttention.ChunkMask(t, past));
        Assert.False(verdict.Passed);
        Assert.Contains("CausalSelfAttention.ChunkMask", verdict.Feedback);
    }
}
