using TorchSharp;
using TransformerCourse.EncoderFamily;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>ALBERT's parameter savers: the closed-form counts against the modules' own parameters.</summary>
public class EncoderFamilyAlbertTests : TorchTest
{
    public static TheoryData<int, int, int, int, int, int> Configs => new()
    {
        // vocab, width, feed-forward, depth, distinct layers, embedding width (0 = plain)
        { 100, 64, 256, 4, 4, 0 },
        { 100, 64, 256, 4, 1, 0 },
        { 100, 64, 256, 4, 4, 16 },
        { 100, 64, 256, 4, 1, 16 },
        { 3000, 32, 64, 6, 2, 8 },
        { 7, 16, 48, 2, 2, 32 },
    };

    [Theory, MemberData(nameof(Configs))]
    public void Closed_form_count_equals_the_sum_over_the_module_parameters(int vocab, int width, int ffn, int depth, int distinct, int e)
    {
        var config = new EncoderVariantConfig(vocab, width, Heads: 4, FeedForwardWidth: ffn, Depth: depth, DistinctLayers: distinct, EmbeddingWidth: e, MaxLength: 20);
        using var model = new EncoderVariant(config);
        Assert.Equal(config.ParameterCount().Total, model.CountParameters());
    }

    [Theory]
    [InlineData(30000, 128, 768)]
    [InlineData(50, 4, 64)]
    public void Factorised_embedding_counts_v_e_plus_e_h_plus_h(int v, int e, int h)
    {
        using var module = new FactorisedEmbedding(v, e, h);
        Assert.Equal(FactorisedEmbedding.ParameterCount(v, e, h), module.parameters().Sum(p => p.numel()));
        Assert.Equal((long)v * e + (long)e * h + h, FactorisedEmbedding.ParameterCount(v, e, h));
        using var ids = tensor(new long[,] { { 0, 1, 2 } });
        Assert.Equal(new long[] { 1, 3, h }, module.forward(ids).shape);
    }

    [Fact]
    public void Sharing_keeps_one_layer_and_applies_it_at_every_depth()
    {
        using var shared = new SharedLayerStack(depth: 3, distinctLayers: 1, width: 16, heads: 2, feedForwardWidth: 32);
        using var single = new SharedLayerStack(depth: 1, distinctLayers: 1, width: 16, heads: 2, feedForwardWidth: 32);
        Assert.Equal(single.parameters().Sum(p => p.numel()), shared.parameters().Sum(p => p.numel()));
        single.load_state_dict(shared.state_dict());
        using var x = randn(2, 5, 16);
        var thrice = single.forward(single.forward(single.forward(x)));
        Assert.True(shared.forward(x).allclose(thrice, rtol: 0, atol: 1e-5));
        using var half = new SharedLayerStack(depth: 4, distinctLayers: 2, width: 16, heads: 2, feedForwardWidth: 32);
        Assert.Equal([0, 0, 1, 1], Enumerable.Range(0, 4).Select(half.LayerFor));
        Assert.Throws<ArgumentException>(() => new SharedLayerStack(depth: 4, distinctLayers: 3, width: 16, heads: 2, feedForwardWidth: 32));
    }

    [Fact]
    public void Albert_at_bert_base_size_matches_the_papers_embedding_saving()
    {
        // Lan et al. (2020), Table 1: BERT-base 108M vs ALBERT-base 12M with V = 30,000, H = 768, E = 128, 12 layers.
        var bert = new EncoderVariantConfig(30000, 768, 12, 3072, 12, 12, 0, 512).ParameterCount();
        var albert = new EncoderVariantConfig(30000, 768, 12, 3072, 12, 1, 128, 512).ParameterCount();
        Assert.InRange(bert.Total / 1e6, 100, 115);
        Assert.InRange(albert.Total / 1e6, 10, 14);
    }

    [Fact]
    public void Model_gives_logits_and_padding_does_not_reach_real_tokens()
    {
        using var model = new EncoderVariant(EncoderVariantConfig.Albert(20, embeddingWidth: 8, width: 16, depth: 2, maxLength: 8) with { Heads = 2, FeedForwardWidth = 32 });
        model.eval();
        using var a = tensor(new long[,] { { 5, 6, 7, 0, 0 } });
        using var b = tensor(new long[,] { { 5, 6, 7 } });
        Assert.Equal(new long[] { 1, 5, 20 }, model.Logits(a, a.ne(0)).shape);
        // Two pad tokens appended: with padId the real tokens cannot see them, so their vectors do not change.
        using var ha = model.Hidden(a, a.ne(0));
        using var hb = model.Hidden(b, b.ne(0));
        Assert.True(ha[.., ..3].allclose(hb, rtol: 0, atol: 1e-5));
        using var hc = model.Hidden(a);   // without padId they are attended to like any token
        Assert.False(hc[.., ..3].allclose(hb, rtol: 0, atol: 1e-5));
        Assert.Throws<ArgumentException>(() => model.Logits(tensor(new long[,] { { 1, 25 } })));
        Assert.Throws<ArgumentException>(() => model.Logits(zeros(new long[] { 1, 9 }, ScalarType.Int64)));
        Assert.Throws<ArgumentException>(() => new EncoderVariant(new EncoderVariantConfig(20, Width: 18, Heads: 4)));
    }
}

/// <summary>The distillation loss against a hand computation and its known limits.</summary>
public class EncoderFamilyDistillationTests : TorchTest
{
    [Fact]
    public void Soft_loss_matches_a_hand_computation()
    {
        double[] s = [1.0, 0.0, -1.0], t = [2.0, 0.5, 0.0];
        const double T = 2.0;
        double[] Soft(double[] z) { var e = z.Select(v => Math.Exp(v / T)).ToArray(); return e.Select(v => v / e.Sum()).ToArray(); }
        var ps = Soft(s); var pt = Soft(t);
        double kl = pt.Select((p, i) => p * Math.Log(p / ps[i])).Sum();
        using var student = tensor(s).unsqueeze(0);
        using var teacher = tensor(t).unsqueeze(0);
        Assert.Equal(T * T * kl, Distillation.SoftTargetLoss(student, teacher, T).item<double>(), 10);
    }

    [Fact]
    public void At_t_1_it_is_torchs_kl_div_and_a_perfect_student_scores_zero()
    {
        using var s = randn(6, 10, dtype: ScalarType.Float64);
        using var t = randn(6, 10, dtype: ScalarType.Float64);
        var builtIn = nn.functional.kl_div(nn.functional.log_softmax(s, -1), nn.functional.log_softmax(t, -1), reduction: nn.Reduction.Sum, log_target: true) / 6;
        Assert.Equal(builtIn.item<double>(), Distillation.SoftTargetLoss(s, t, 1.0).item<double>(), 10);
        Assert.Equal(0.0, Distillation.SoftTargetLoss(t, t, 3.0).item<double>(), 10);
    }

    [Fact]
    public void At_high_temperature_t_squared_kl_tends_to_the_squared_logit_difference()
    {
        // Hinton et al. (2015), §2.1: for large T, T² · KL → Σ (δs − δt)² / (2V), δ = logits minus their mean.
        using var s = randn(4, 7, dtype: ScalarType.Float64);
        using var t = randn(4, 7, dtype: ScalarType.Float64);
        var ds = s - s.mean([-1], keepdim: true);
        var dt = t - t.mean([-1], keepdim: true);
        double limit = ((ds - dt).pow(2).sum(-1) / (2 * 7)).mean().item<double>();
        double at1000 = Distillation.SoftTargetLoss(s, t, 1000).item<double>();
        Assert.Equal(limit, at1000, limit * 1e-3);
        // Without the T² factor the soft term would vanish like 1/T²: the factor keeps it (and its gradient) sized.
        Assert.True(Distillation.SoftTargetLoss(s, t, 1000).item<double>() / (1000.0 * 1000) < 1e-5);
    }

    [Fact]
    public void Total_mixes_soft_and_hard_over_the_masked_positions_only()
    {
        using var student = randn(2, 3, 5, dtype: ScalarType.Float64);
        using var teacher = randn(2, 3, 5, dtype: ScalarType.Float64);
        using var labels = tensor(new long[,] { { -100, 2, -100 }, { 4, -100, -100 } });
        var all = Distillation.Loss(student, teacher, labels, temperature: 2.0, alpha: 0.25);
        var picked = tensor(new long[,] { { 0, 1 }, { 1, 0 } });
        var ps = stack([student[0, 1], student[1, 0]]);
        var pt = stack([teacher[0, 1], teacher[1, 0]]);
        double soft = Distillation.SoftTargetLoss(ps, pt, 2.0).item<double>();
        double hard = nn.functional.cross_entropy(ps, tensor(new long[] { 2, 4 })).item<double>();
        Assert.Equal(soft, all.Soft.item<double>(), 10);
        Assert.Equal(hard, all.Hard.item<double>(), 10);
        Assert.Equal(0.25 * soft + 0.75 * hard, all.Total.item<double>(), 10);
        // Changing an unscored position changes nothing.
        var moved = student.clone(); moved[0, 0] += 5;
        Assert.Equal(all.Total.item<double>(), Distillation.Loss(moved, teacher, labels, 2.0, 0.25).Total.item<double>(), 10);
        Assert.Throws<ArgumentException>(() => Distillation.Loss(student, teacher, labels, 0.0));
        Assert.Throws<ArgumentException>(() => Distillation.Loss(student, teacher[.., ..2], labels));
        Assert.Throws<ArgumentException>(() => Distillation.Loss(student, teacher, full(2, 3, -100L)));
    }

    [Fact]
    public void The_teacher_gets_no_gradient()
    {
        using var s = randn(3, 4, requires_grad: true);
        using var t = randn(3, 4, requires_grad: true);
        Distillation.SoftTargetLoss(s, t, 2.0).backward();
        Assert.NotNull(s.grad);
        Assert.Null(t.grad);
    }
}

/// <summary>ELECTRA's corruption step and replaced-token-detection loss.</summary>
public class EncoderFamilyElectraTests : TorchTest
{
    [Fact]
    public void A_sample_equal_to_the_original_counts_as_original()
    {
        using var ids = tensor(new long[,] { { 1, 2, 3, 4 } });
        using var masked = tensor(new bool[,] { { false, true, true, false } });
        // The generator is certain: position 1 → token 2 (the original), position 2 → token 0 (a replacement),
        // position 3 → token 0 but is not masked.
        var logits = full(1, 4, 5, -1e4);
        logits[0, 1, 2] = 0; logits[0, 2, 0] = 0; logits[0, 3, 0] = 0; logits[0, 0, 0] = 0;
        var c = ReplacedTokenDetection.Corrupt(ids, masked, logits, new Generator(seed: 1));
        Assert.Equal(new long[] { 1, 2, 0, 4 }, c.Corrupted.data<long>().ToArray());
        Assert.Equal(new[] { false, false, true, false }, c.IsReplaced.data<bool>().ToArray());
    }

    [Fact]
    public void Samples_follow_the_generator_and_only_masked_positions_change()
    {
        using var ids = zeros(new long[] { 200, 3 }, ScalarType.Int64);
        using var masked = tensor(new bool[] { true, false, true }).expand(200, 3).contiguous();
        using var logits = zeros(200, 3, 2);   // uniform over {0, 1}: half the samples equal the original 0
        var c = ReplacedTokenDetection.Corrupt(ids, masked, logits, new Generator(seed: 3));
        Assert.Equal(0, c.IsReplaced[.., 1].sum().item<long>());
        double share = c.IsReplaced[.., 0].to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(share, 0.4, 0.6);
        Assert.True(c.IsReplaced.eq(c.Corrupted.ne(ids)).all().item<bool>());
        Assert.Throws<ArgumentException>(() => ReplacedTokenDetection.Corrupt(ids, masked.to_type(ScalarType.Int64), logits));
        Assert.Throws<ArgumentException>(() => ReplacedTokenDetection.Corrupt(ids, masked, zeros(200, 2, 2)));
    }

    [Fact]
    public void Loss_is_binary_cross_entropy_over_the_scored_positions()
    {
        using var logits = tensor(new double[,] { { 2.0, -1.0, 0.5 } });
        using var replaced = tensor(new bool[,] { { true, false, false } });
        using var scored = tensor(new bool[,] { { true, true, false } });
        double Sig(double x) => 1 / (1 + Math.Exp(-x));
        double want = -(Math.Log(Sig(2.0)) + Math.Log(1 - Sig(-1.0))) / 2;
        Assert.Equal(want, ReplacedTokenDetection.Loss(logits, replaced, scored).item<double>(), 10);
        double all = -(Math.Log(Sig(2.0)) + Math.Log(1 - Sig(-1.0)) + Math.Log(1 - Sig(0.5))) / 3;
        Assert.Equal(all, ReplacedTokenDetection.Loss(logits, replaced).item<double>(), 10);
        Assert.Throws<ArgumentException>(() => ReplacedTokenDetection.Loss(logits, replaced[.., ..2]));
    }

    [Fact]
    public void Discriminator_gives_one_logit_per_token()
    {
        using var d = new ElectraDiscriminator(new EncoderVariantConfig(10, Width: 16, Heads: 2, FeedForwardWidth: 32, Depth: 1, DistinctLayers: 1, MaxLength: 6));
        Assert.Equal(new long[] { 2, 6 }, d.Logits(zeros(new long[] { 2, 6 }, ScalarType.Int64), ones(2, 6, ScalarType.Bool)).shape);
    }
}

/// <summary>Mean pooling over real tokens and cosine similarity.</summary>
public class EncoderFamilyPoolingTests : TorchTest
{
    [Fact]
    public void Mean_pooling_ignores_padding()
    {
        using var hidden = tensor(new double[] { 1, 2, 3, 4, 100, 100, 5, 6, 7, 8, 9, 10 }).reshape(2, 3, 2);
        using var keep = tensor(new bool[,] { { true, true, false }, { true, true, true } });
        var pooled = MeanPooling.Pool(hidden, keep);
        Assert.Equal(new double[] { 2, 3, 7, 8 }, pooled.data<double>().ToArray());
        hidden[0, 2] = tensor(new double[] { -7, 7 });
        Assert.True(MeanPooling.Pool(hidden, keep).allclose(pooled));
        Assert.Equal(new double[] { 0, 0 }, MeanPooling.Pool(hidden[..1], zeros(1, 3, ScalarType.Bool)).data<double>().ToArray());
        Assert.Throws<ArgumentException>(() => MeanPooling.Pool(hidden, keep[.., ..2]));
    }

    [Fact]
    public void Cosine_similarity_matches_the_formula_and_nearest_skips_the_query()
    {
        using var a = tensor(new double[,] { { 1, 0 }, { 1, 1 }, { -1, 0 }, { 3, 0.1 } });
        var sim = MeanPooling.CosineSimilarity(a, a);
        Assert.Equal(1 / Math.Sqrt(2), sim[0, 1].item<double>(), 10);
        Assert.Equal(-1.0, sim[0, 2].item<double>(), 10);
        var builtIn = nn.functional.cosine_similarity(a[0].unsqueeze(0), a[3].unsqueeze(0));
        Assert.Equal(builtIn.item<double>(), sim[0, 3].item<double>(), 10);
        var near = MeanPooling.Nearest(sim, 0, 2);
        Assert.Equal(new[] { 3, 1 }, near.Select(n => n.Index));
        Assert.Throws<ArgumentException>(() => MeanPooling.CosineSimilarity(a, zeros(2, 3, ScalarType.Float64)));
        Assert.Throws<ArgumentException>(() => MeanPooling.Nearest(sim, 4, 1));
    }
}
