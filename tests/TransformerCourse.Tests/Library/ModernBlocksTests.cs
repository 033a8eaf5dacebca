using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.Modern;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>Lesson 25's building blocks: RoPE, ALiBi, RMSNorm, sliding windows, and the model that combines them.</summary>
public class ModernBlocksTests : TorchTest
{
    static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().to_type(ScalarType.Float64).item<double>();

    // ----- RoPE
    [Fact]
    public void Rope_scores_depend_only_on_the_offset_and_norms_are_kept()
    {
        var q = randn(1, 16, dtype: ScalarType.Float64);
        var k = randn(1, 16, dtype: ScalarType.Float64);
        double Score(long m, long n) => (RotaryEmbedding.Rotate(q, m) * RotaryEmbedding.Rotate(k, n)).sum().item<double>();
        foreach (int offset in new[] { 0, 1, 5, -3 })
        {
            double first = Score(10, 10 + offset);
            foreach (long m in new long[] { 20, 137, 4000 })
                Assert.Equal(first, Score(m, m + offset), 9);
        }
        var x = randn(2, 3, 7, 16, dtype: ScalarType.Float64);
        var rotated = RotaryEmbedding.Rotate(x, 11);
        Assert.True(MaxDiff(rotated.norm(-1), x.norm(-1)) < 1e-12);
        Assert.True(MaxDiff(RotaryEmbedding.Rotate(x, 0)[.., .., 0], x[.., .., 0]) < 1e-15); // position 0 is not rotated
    }

    [Fact]
    public void Rope_equals_multiplying_complex_pairs_by_unit_phasors()
    {
        var x = randn(2, 5, 8, dtype: ScalarType.Float64);
        var positions = tensor(new double[] { 0, 3, 7, 100, 2.5 });
        var angles = positions.unsqueeze(1) * RotaryEmbedding.Frequencies(8).to_type(ScalarType.Float64).unsqueeze(0);
        var phasors = polar(ones_like(angles), angles);
        var expected = view_as_real(view_as_complex(x.reshape(2, 5, 4, 2)) * phasors).reshape(2, 5, 8);
        Assert.True(MaxDiff(RotaryEmbedding.RotateAt(x, positions), expected) < 1e-6);
        Assert.True(MaxDiff(RotaryEmbedding.Rotate(x, 4), RotaryEmbedding.RotateAt(x, arange(4, 9, dtype: ScalarType.Float64))) < 1e-12);
    }

    [Fact]
    public void Rope_frequencies_follow_the_paper_and_bad_widths_are_refused()
    {
        var f = RotaryEmbedding.Frequencies(8).data<double>().ToArray();
        Assert.Equal(new[] { 1.0, 0.1, 0.01, 0.001 }, f.Select(v => Math.Round(v, 6)));
        var e = Assert.Throws<ArgumentException>(() => RotaryEmbedding.Rotate(zeros(3, 7)));
        Assert.Contains("[3, 7]", e.Message);
        Assert.Throws<ArgumentException>(() => RotaryEmbedding.RotateAt(zeros(3, 8), zeros(4)));
    }

    // ----- ALiBi
    [Fact]
    public void Alibi_slopes_are_the_papers_geometric_sequences()
    {
        Assert.Equal(Enumerable.Range(1, 8).Select(h => Math.Pow(2, -h)), Alibi.Slopes(8));
        Assert.Equal(new[] { 0.25, 0.0625, 1 / 64.0, 1 / 256.0 }, Alibi.Slopes(4));
        // 6 heads: the 4-head slopes, then every other slope of the 8-head sequence (1/2, 1/8).
        Assert.Equal(new[] { 0.25, 0.0625, 1 / 64.0, 1 / 256.0, 0.5, 0.125 }, Alibi.Slopes(6));
        Assert.ThrowsAny<ArgumentException>(() => Alibi.Slopes(0));
    }

    [Fact]
    public void Alibi_bias_is_minus_slope_times_distance_and_masks_the_future()
    {
        var bias = Alibi.CausalBias(2, 4, 4);
        Assert.Equal(new long[] { 2, 4, 4 }, bias.shape);
        Assert.Equal(0, bias[0, 2, 2].item<float>());
        Assert.Equal(-2 * Math.Pow(2, -4), bias[0, 3, 1].item<float>(), 6);
        Assert.Equal(-3 * Math.Pow(2, -8), bias[1, 3, 0].item<float>(), 6);
        Assert.True(float.IsNegativeInfinity(bias[0, 1, 2].item<float>()));
        var windowed = Alibi.CausalBias(2, 4, 4, window: 2);
        Assert.True(float.IsNegativeInfinity(windowed[0, 3, 1].item<float>()));
        Assert.True(float.IsFinite(windowed[0, 3, 2].item<float>()));
    }

    // ----- RMSNorm
    [Fact]
    public void RmsNorm_matches_the_closed_form_and_counts_d_parameters()
    {
        var norm = new RmsNorm(6, eps: 1e-6);
        using (no_grad()) norm.Weight.copy_(tensor(new float[] { 1, 2, 0.5f, -1, 3, 0 }));
        var x = randn(3, 4, 6) * 5 + 2;
        var expected = x / (x.pow(2).mean([-1], keepdim: true) + 1e-6).sqrt() * norm.Weight;
        Assert.True(MaxDiff(norm.forward(x), expected) < 1e-5);
        Assert.Equal(6, norm.parameters().Sum(p => p.NumberOfElements));
        // On zero-mean vectors RMSNorm is LayerNorm without its bias.
        var centred = x - x.mean([-1], keepdim: true);
        var layerNorm = nn.functional.layer_norm(centred, [6], eps: 1e-6);
        Assert.True(MaxDiff(RmsNorm.Normalize(centred, ones(6), 1e-6), layerNorm) < 1e-5);
        var e = Assert.Throws<ArgumentException>(() => norm.forward(zeros(2, 5)));
        Assert.Contains("[2, 5]", e.Message);
    }

    // ----- Sliding window
    [Fact]
    public void Sliding_window_mask_keeps_itself_and_the_w_minus_1_keys_before()
    {
        var mask = SlidingWindow.Mask(5, 2);
        var expected = tensor(new bool[,]
        {
            { true, false, false, false, false },
            { true, true, false, false, false },
            { false, true, true, false, false },
            { false, false, true, true, false },
            { false, false, false, true, true },
        });
        Assert.True(mask.equal(expected).all().item<bool>());
        Assert.True(SlidingWindow.Mask(6, 0).equal(ones(6, 6, dtype: ScalarType.Bool).tril()).all().item<bool>());
        Assert.True(SlidingWindow.Mask(6, 10).equal(ones(6, 6, dtype: ScalarType.Bool).tril()).all().item<bool>());
        Assert.True(SlidingWindow.Mask(2, 5, 3).equal(tensor(new bool[,] { { false, true, true, true, false }, { false, false, true, true, true } })).all().item<bool>());
        Assert.Equal(4096, SlidingWindow.CachedPositions(32768, 4096));
        Assert.Equal(100, SlidingWindow.CachedPositions(100, 4096));
        Assert.Equal(2L * 32 * 8 * 128 * 4096 * 2, SlidingWindow.CacheBytes(32, 8, 128, 32768, 4096, 2));
        Assert.Equal(32 * 4095, SlidingWindow.Reach(32, 4096));
        Assert.Throws<ArgumentException>(() => SlidingWindow.Mask(5, -1));
    }

    [Fact]
    public void A_windowed_stack_cannot_see_further_back_than_its_reach()
    {
        var config = new ModernGptConfig(20, 16, Layers: 2, Heads: 2, Width: 16, KvHeads: 1, FeedForwardWidth: 24,
            PositionScheme.Rope, NormKind.RmsNorm, FeedForwardKind.SwiGlu, Bias: false, Window: 3);
        var model = new ModernGptModel(config);
        model.eval();
        using var noGrad = no_grad();
        var tokens = randint(0, 20, [1, 16]);
        var changed = tokens.clone();
        changed[0, 0] = tensor((tokens[0, 0].item<long>() + 1) % 20);
        var moved = (model.forward(tokens) - model.forward(changed)).abs().amax([0, 2]);
        long reach = SlidingWindow.Reach(2, 3);
        Assert.True(moved[..(int)(reach + 1)].min().item<float>() > 0);       // positions 0 … 4 see token 0
        Assert.True(moved[(int)(reach + 1)..].max().item<float>() < 1e-6);     // positions 5 … 15 do not
    }

    // ----- The assembled model
    [Fact]
    public void Gpt2_style_config_has_the_capstone_models_parameter_count()
    {
        var gpt = new GptModel(new GptConfig(65, 64, 2, 4, 64));
        var modern = new ModernGptModel(ModernGptConfig.Gpt2Style(65, 64, 2, 4, 64));
        Assert.Equal(gpt.ParameterCount, modern.ParameterCount);
        var llama = new ModernGptModel(ModernGptConfig.LlamaStyle(65, 64, 2, 4, 2, 64, 206));
        long block = 2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 206 + 2 * 64;
        Assert.Equal(65 * 64 + 2 * block + 64, llama.ParameterCount);
        var parts = ParameterBreakdown.Of(llama);
        Assert.Equal(llama.ParameterCount, parts.Sum());
        Assert.Equal(new long[] { 65 * 64, 0, 2 * (2 * 64 * 64 + 2 * 64 * 32), 2 * 3 * 64 * 206, 5 * 64, 0 }, parts);
        var gptParts = ParameterBreakdown.Of(gpt);
        Assert.Equal(new long[] { 65 * 64, 64 * 64, 2 * (4 * 64 * 64 + 4 * 64), 2 * (8 * 64 * 64 + 5 * 64), 5 * 2 * 64, 0 }, gptParts);
    }

    [Fact]
    public void Each_position_scheme_gives_a_causal_model()
    {
        foreach (var scheme in new[] { PositionScheme.Learned, PositionScheme.Rope, PositionScheme.Alibi })
        {
            var config = new ModernGptConfig(30, 12, 1, 4, 16, 2, 32, scheme, NormKind.LayerNorm, FeedForwardKind.Gelu, Bias: true);
            var model = new ModernGptModel(config);
            model.eval();
            using var noGrad = no_grad();
            var tokens = randint(0, 30, [2, 12]);
            var changed = tokens.clone();
            changed[.., 8] = (tokens[.., 8] + 1).remainder(30);
            var (a, b) = (model.forward(tokens), model.forward(changed));
            Assert.Equal(new long[] { 2, 12, 30 }, a.shape);
            Assert.True(MaxDiff(a[.., ..8], b[.., ..8]) < 1e-6, $"{scheme}: a later token changed an earlier output");
            Assert.True(MaxDiff(a[.., 8..], b[.., 8..]) > 1e-4, $"{scheme}: the changed token had no effect");
            var weights = model.AttentionWeights(tokens, 0);
            Assert.Equal(new long[] { 2, 4, 12, 12 }, weights.shape);
            Assert.True(MaxDiff(weights.sum(-1), ones(2, 4, 12)) < 1e-5);
            Assert.Equal(0, weights.triu(1).abs().max().item<float>());
        }
    }

    [Fact]
    public void Fused_and_from_scratch_attention_agree_with_alibi_and_a_window()
    {
        var config = new ModernGptConfig(30, 12, 1, 4, 16, 4, 32, PositionScheme.Alibi, NormKind.RmsNorm, FeedForwardKind.SwiGlu, Bias: false, Window: 5);
        var attention = new ModernAttention(config);
        using var noGrad = no_grad();
        var x = randn(2, 12, 16);
        var weights = attention.Weights(x);
        Assert.Equal(0, weights[.., .., 11, ..7].abs().max().item<float>());  // outside the window of 5
        // The module's output equals o_proj(weights · v) computed by hand.
        var parameters = attention.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var v = x.matmul(parameters["v_proj.weight"].T).view(2, 12, 4, 4).transpose(1, 2);
        var expected = weights.matmul(v).transpose(1, 2).reshape(2, 12, 16).matmul(parameters["o_proj.weight"].T);
        Assert.True(MaxDiff(attention.forward(x), expected) < 1e-5);
    }

    [Fact]
    public void Learned_positions_refuse_a_longer_input_with_a_clear_message()
    {
        var model = new ModernGptModel(ModernGptConfig.Gpt2Style(10, 8, 1, 2, 8));
        var e = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 9, dtype: ScalarType.Int64)));
        Assert.Contains("no rows beyond", e.Message);
        var bad = Assert.Throws<ArgumentException>(() => ModernGptConfig.LlamaStyle(10, 8, 1, 4, 3, 16, 8));
        Assert.Contains("KvHeads", bad.Message);
    }

    // ----- Training helpers
    [Fact]
    public void Short_runs_are_reproducible_and_paired_gaps_are_computed()
    {
        var random = new Random(3);
        var corpus = new TokenCorpus(Enumerable.Range(0, 4000).Select(_ => (long)random.Next(12)).ToArray());
        var options = new ShortRunOptions(Steps: 6, BatchSize: 4, ContextLength: 8, WarmupSteps: 2);
        var config = ModernGptConfig.LlamaStyle(12, 8, 1, 2, 1, 8, 12);
        ShortRun Run() => ArchitectureRuns.Train("llama", () => new ModernGptModel(config), (m, x, y) => m.Loss(x, y), corpus, 5, options);
        var (a, b) = (Run(), Run());
        Assert.Equal(6, a.History.Length);
        Assert.Equal(a.History.Select(s => s.Loss), b.History.Select(s => s.Loss));
        Assert.Equal(a.BatchLosses(corpus, 8, 3, 4), b.BatchLosses(corpus, 8, 3, 4));
        Assert.True(a.MedianStepMilliseconds > 0);
        var gap = PairedGap.Of([3.0, 2.0, 4.0], [1.0, 1.0, 1.0]);
        Assert.Equal(2.0, gap.Mean, 12);
        Assert.Equal(Math.Sqrt(1.0 / 3), gap.StandardError, 12);
        Assert.Throws<ArgumentException>(() => PairedGap.Of([1.0], [2.0]));
    }
}
