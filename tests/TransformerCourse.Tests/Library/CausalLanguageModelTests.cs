using TransformerCourse.Gpt;
using TransformerCourse.Scaling;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>Lesson 16's library: closed-form GPT sizes, the shifted loss, perplexity, the loss at init, attention patterns, the untied head.</summary>
public class CausalLanguageModelTests : TorchTest
{
    [Theory]
    [InlineData(1, 8)]
    [InlineData(2, 16)]
    [InlineData(3, 24)]
    public void Closed_form_equals_a_built_model_tied_and_untied(int layers, int width)
    {
        foreach (bool tied in new[] { true, false })
        {
            var config = new GptConfig(37, 11, layers, 2, width, TiedHead: tied);
            using var model = new GptModel(config);
            Assert.Equal(model.ParameterCount, ModelSizes.Total(config));
        }
    }

    [Fact]
    public void Published_gpt2_and_gpt3_counts_are_the_known_exact_numbers()
    {
        Assert.Equal(124_439_808, ModelSizes.Total(ModelSizes.Gpt2Small));
        Assert.Equal(354_823_168, ModelSizes.Total(ModelSizes.Gpt2Medium));
        Assert.Equal(774_030_080, ModelSizes.Total(ModelSizes.Gpt2Large));
        Assert.Equal(1_557_611_200, ModelSizes.Total(ModelSizes.Gpt2XL));
        // GPT-1: 40,478 × 768 + 512 × 768 + 12 (12·768² + 13·768), no final LayerNorm.
        Assert.Equal(40_478L * 768 + 512 * 768 + 12 * (12L * 768 * 768 + 13 * 768), ModelSizes.Total(ModelSizes.Gpt1));
        Assert.InRange(ModelSizes.Total(ModelSizes.Gpt3), 174.5e9, 174.7e9);
        Assert.All(ModelSizes.Published, m => Assert.InRange(ModelSizes.Total(m) / m.QuotedParameters, 0.99, 1.01));
    }

    [Fact]
    public void Built_count_at_small_width_matches_the_closed_form_and_drops_gpt1s_final_norm()
    {
        foreach (var shape in new[] { ModelSizes.Gpt1, ModelSizes.Gpt2Small })
            Assert.Equal(ModelSizes.Total(shape.VocabSize, shape.ContextLength, shape.Layers, 16, shape.TiedHead, shape.FinalNorm), ModelSizes.BuiltCount(shape, 16, heads: 2));
        Assert.Equal(ModelSizes.BuiltCount(ModelSizes.Gpt2Small, 16, 1), ModelSizes.BuiltCount(ModelSizes.Gpt2Small, 16, 4));
    }

    [Fact]
    public void The_rule_of_thumb_misses_13_over_12d_plus_13_of_the_blocks()
    {
        var m = ModelSizes.Gpt2Small;
        long blocks = m.Layers * ModelSizes.BlockParameters(m.Width);
        Assert.Equal(13.0 / (12 * m.Width + 13), 1 - (double)ModelSizes.TwelveLdSquared(m.Layers, m.Width) / blocks, 12);
    }

    [Fact]
    public void Bad_sizes_throw_naming_the_argument()
    {
        Assert.Contains("width", Assert.Throws<ArgumentException>(() => ModelSizes.BlockParameters(0)).Message);
        Assert.Equal("layers", Assert.Throws<ArgumentException>(() => ModelSizes.Total(10, 10, -1, 8)).ParamName);
    }

    [Fact]
    public void Shifted_loss_equals_cross_entropy_on_the_shifted_pairs()
    {
        var logits = randn(3, 7, 5);
        var tokens = randint(0, 5, [3, 7]);
        var want = nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, 5), tokens[.., 1..].reshape(-1)).item<float>();
        Assert.Equal([3L, 6L], NextTokenLoss.PerPosition(logits, tokens).shape);
        Assert.Equal(want, NextTokenLoss.Mean(logits, tokens).item<float>(), 5);
        // The unshifted loss is a different number: the check can fail.
        Assert.NotEqual(want, nn.functional.cross_entropy(logits.reshape(-1, 5), tokens.reshape(-1)).item<float>(), 3);
    }

    [Fact]
    public void Shifted_loss_rejects_mismatched_shapes_and_single_tokens()
    {
        Assert.Contains("[2, 4]", Assert.Throws<ArgumentException>(() => NextTokenLoss.PerPosition(randn(2, 5, 3), zeros(2, 4, dtype: ScalarType.Int64))).Message);
        Assert.Equal("tokens", Assert.Throws<ArgumentException>(() => NextTokenLoss.PerPosition(randn(2, 1, 3), zeros(2, 1, dtype: ScalarType.Int64))).ParamName);
    }

    [Fact]
    public void Perplexity_two_ways_agree_and_uniform_gives_k()
    {
        double[] p = [0.5, 0.25, 0.1, 0.9, 0.05];
        var nll = p.Select(x => -Math.Log(x)).ToArray();
        Assert.Equal(NextTokenLoss.Perplexity(nll), NextTokenLoss.GeometricMeanInverseProbability(p), 10);
        Assert.Equal(7, NextTokenLoss.Perplexity(Enumerable.Repeat(Math.Log(7), 4).ToArray()), 10);
        Assert.Throws<ArgumentException>(() => NextTokenLoss.GeometricMeanInverseProbability([0.0]));
        Assert.Throws<ArgumentException>(() => NextTokenLoss.GeometricMeanInverseProbability(Enumerable.Repeat(1e-10, 40).ToArray()));
    }

    [Fact]
    public void Initial_loss_is_near_ln_v_plus_half_the_logit_variance()
    {
        Assert.Equal(Math.Log(65) + 0.05, InitialLoss.Predicted(65, 0.1), 12);
        var config = new GptConfig(17, 16, 1, 2, 32);
        var m = InitialLoss.Measure(config, i => { var g = new Generator((ulong)i); var x = randint(0, 17, [8, 16], generator: g); return (x, randint(0, 17, [8, 16], generator: g)); }, models: 4);
        Assert.InRange(m.LogitVariance, 0.005, 0.05);   // ≈ 0.02² · 32
        Assert.InRange(m.MeanLoss - m.Predicted, -0.05, 0.05);
        Assert.Throws<ArgumentException>(() => InitialLoss.Measure(config, _ => throw new InvalidOperationException(), models: 1));
    }

    [Fact]
    public void Attention_patterns_have_the_expected_counts()
    {
        Assert.Equal(16, AttentionPatterns.EncoderOnly(4).sum().item<long>());
        Assert.Equal(10, AttentionPatterns.DecoderOnly(4).sum().item<long>());
        var ed = AttentionPatterns.EncoderDecoder(2, 3);
        Assert.Equal(2 * 2 + 3 * 2 + 6, ed.sum().item<long>());
        Assert.False(ed[0, 2].item<bool>());   // the source never sees the target
        Assert.True(ed[2, 1].item<bool>());    // the target sees the whole source
        Assert.False(ed[2, 3].item<bool>());   // but not later target tokens
        Assert.ThrowsAny<ArgumentException>(() => AttentionPatterns.EncoderDecoder(0, 3));
    }

    [Fact]
    public void An_untied_head_adds_v_times_d_and_the_tied_default_is_unchanged()
    {
        var tied = new GptConfig(11, 8, 1, 2, 8);
        Assert.True(tied.TiedHead);
        manual_seed(0);
        using var a = new GptModel(tied);
        using var b = new GptModel(tied with { TiedHead = false });
        Assert.Equal(11 * 8, b.ParameterCount - a.ParameterCount);
        Assert.DoesNotContain(a.named_parameters(), p => p.name.StartsWith("head"));
        var tokens = randint(0, 11, [2, 8]);
        Assert.Equal([2L, 8L, 11L], b.forward(tokens).shape);
        Assert.Contains(b.named_parameters(), p => p.name == "head.weight");
    }
}
