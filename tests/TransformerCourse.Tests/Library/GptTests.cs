using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class GptTests : TorchTest
{
    static GptConfig Small(bool fused = true) => new(VocabSize: 11, ContextLength: 16, Layers: 2, Heads: 2, Width: 16, UseFusedAttention: fused);

    [Fact]
    public void Counts_parameters_with_a_tied_head()
    {
        var model = new GptModel(Small());
        long perBlock = 2 * 2 * 16 + (16 * 48 + 48) + (16 * 16 + 16) + (16 * 64 + 64) + (64 * 16 + 16);
        Assert.Equal(11 * 16 + 16 * 16 + 2 * perBlock + 2 * 16, model.ParameterCount);
    }

    [Fact]
    public void Loss_at_initialisation_is_about_ln_vocab()
    {
        manual_seed(0);
        var model = new GptModel(Small() with { VocabSize = 65, Width = 32 });
        var tokens = randint(0, 65, [8, 16]);
        var loss = model.Loss(tokens, randint(0, 65, [8, 16])).item<float>();
        Assert.InRange(loss, Math.Log(65) - 0.1, Math.Log(65) + 0.1);
    }

    [Fact]
    public void Fused_and_from_scratch_attention_agree()
    {
        manual_seed(0);
        var model = new GptModel(Small());
        var tokens = randint(0, 11, [3, 16]);
        var fused = model.forward(tokens);
        model.UseFusedAttention = false;
        var scratch = model.forward(tokens);
        Assert.True((fused - scratch).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void The_output_never_depends_on_the_future()
    {
        manual_seed(0);
        var model = new GptModel(Small());
        var a = randint(0, 11, [1, 10]);
        var b = a.clone();
        b[0, 7] = (a[0, 7] + 1) % 11;
        var diff = (model.forward(a)[0, ..7] - model.forward(b)[0, ..7]).abs().max().item<float>();
        Assert.Equal(0f, diff);
    }

    [Fact]
    public void Kv_cache_generation_equals_full_recomputation_even_past_the_context()
    {
        manual_seed(0);
        var model = new GptModel(Small());
        long[] prompt = [1, 2, 3];
        foreach (var options in new[] { new SamplingOptions(0), new SamplingOptions(1.0, TopK: 4) })
        {
            var cached = TextSampler.Generate(model, prompt, 30, options, new Generator(5), useCache: true);
            var full = TextSampler.Generate(model, prompt, 30, options, new Generator(5), useCache: false);
            Assert.Equal(full, cached);
            Assert.Equal(33, cached.Length);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions(-1).Validated());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions(1, 0).Validated());
        var e = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 17, dtype: ScalarType.Int64)));
        Assert.Contains("context length 16", e.Message);
    }

    [Fact]
    public void Top_k_only_samples_the_k_best()
    {
        var logits = tensor(new float[] { 0, 5, 1, 4, 2 });
        var seen = Enumerable.Range(0, 200).Select(i => TextSampler.NextToken(logits, new SamplingOptions(2.0, 2), new Generator((ulong)i)).item<long>()).ToHashSet();
        Assert.Equal(new HashSet<long> { 1, 3 }, seen);
        Assert.Equal(1, TextSampler.NextToken(logits, new SamplingOptions(0)).item<long>());
    }

    [Fact]
    public void The_schedule_warms_up_then_decays_to_the_floor()
    {
        var s = new WarmupCosineSchedule(1e-3, 1e-4, 100, 2000);
        Assert.Equal(1e-5, s.At(0), 12);
        Assert.Equal(1e-3, s.At(99), 12);
        Assert.Equal(1e-3, s.At(100), 12);
        Assert.Equal(5.5e-4, s.At(1050), 9);
        Assert.Equal(1e-4, s.At(2000), 12);
        Assert.True(s.At(500) > s.At(1500));
    }

    [Fact]
    public void Bad_configurations_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new GptModel(Small() with { Width = 15 }));
        Assert.Contains("Width", e.Message);
        Assert.Contains("15", e.Message);
        Assert.Throws<ArgumentException>(() => TrainingRecipe.Named("tpu"));
        Assert.Equal(128, TrainingRecipe.Cpu.Width);
        Assert.Equal(0.2, TrainingRecipe.Gpu.Dropout);
    }
}
