using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.MoE;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class MoeTests : TorchTest
{
    static GptConfig Small => new(VocabSize: 11, ContextLength: 16, Layers: 2, Heads: 2, Width: 16);

    [Fact]
    public void Balance_loss_is_exactly_one_for_uniform_routing()
    {
        var probs = ones(12, 4) * 0.25f;
        var first = tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3, 3, 2, 1, 0 });
        Assert.Equal(1.0, MoeRouting.LoadBalancingLoss(probs, first).item<float>(), 6);
    }

    [Fact]
    public void Balance_loss_is_n_when_every_token_goes_to_one_expert_with_all_the_probability()
    {
        foreach (int n in new[] { 2, 4, 8 })
        {
            var probs = zeros(10, n);
            probs[.., 1] = ones(10);
            var first = ones(10, dtype: ScalarType.Int64);
            Assert.Equal(n, MoeRouting.LoadBalancingLoss(probs, first).item<float>(), 5);
        }
    }

    [Fact]
    public void Balance_loss_gradient_flows_through_the_mean_probability_only()
    {
        manual_seed(3);
        var logits = randn(9, 3).requires_grad_(true);
        var probs = logits.softmax(1);
        probs.retain_grad();
        var first = probs.argmax(1);
        var loss = MoeRouting.LoadBalancingLoss(probs, first);
        loss.backward();
        // d/dprobs[t, i] of N · Σ f_i · mean_t probs[t, i] is N · f_i / T: the same for every token, zero for unused experts.
        var f = MoeRouting.DispatchFraction(first, 3);
        var expected = (f * 3 / 9).unsqueeze(0).expand(9, 3);
        Assert.True(probs.grad!.allclose(expected, atol: 1e-6));
        Assert.False(f.requires_grad);
        Assert.True(logits.grad is not null);
    }

    [Fact]
    public void Balance_loss_rejects_mismatched_inputs()
    {
        var e = Assert.Throws<ArgumentException>(() => MoeRouting.LoadBalancingLoss(ones(5, 3) / 3, zeros(4, dtype: ScalarType.Int64)));
        Assert.Contains("4 tokens", e.Message);
        Assert.Contains("5", e.Message);
    }

    [Fact]
    public void Top1_gate_is_the_probability_and_top2_gates_are_renormalised()
    {
        manual_seed(4);
        var logits = randn(6, 5);
        var probs = logits.softmax(1);
        var one = MoeRouting.TopK(logits, 1);
        Assert.True(one.Gates.squeeze(1).allclose(probs.max(1).values));
        Assert.True(one.Experts.squeeze(1).eq(probs.argmax(1)).all().item<bool>());
        var two = MoeRouting.TopK(logits, 2);
        Assert.True(two.Gates.sum(1).allclose(ones(6)));
        var kept = probs.gather(1, two.Experts);
        Assert.True(two.Gates.allclose(kept / kept.sum(1, keepdim: true)));
        Assert.True(kept[.., 0].ge(kept[.., 1]).all().item<bool>(), "most probable first");
        // Shazeer et al.'s form: softmax over the k kept logits gives the same gates.
        Assert.True(two.Gates.allclose(logits.gather(1, two.Experts).softmax(1), atol: 1e-6));
        Assert.Throws<ArgumentException>(() => MoeRouting.TopK(logits, 6));
    }

    [Theory]
    [InlineData(10, 4, 1, 1.0, 3)]
    [InlineData(64, 4, 1, 1.25, 20)]
    [InlineData(64, 4, 2, 1.0, 32)]
    [InlineData(9, 4, 1, 1.0, 3)]
    [InlineData(1024, 4, 1, 1.25, 320)]
    public void Capacity_is_the_ceiling_of_factor_times_tokens_times_k_over_n(int tokens, int experts, int k, double factor, int expected)
        => Assert.Equal(expected, MoeRouting.Capacity(tokens, experts, k, factor));

    [Fact]
    public void Capacity_rejects_bad_input_naming_it()
    {
        Assert.Contains("k", Assert.Throws<ArgumentException>(() => MoeRouting.Capacity(10, 4, 5, 1.0)).ParamName);
        Assert.Equal("capacityFactor", Assert.Throws<ArgumentException>(() => MoeRouting.Capacity(10, 4, 1, 0)).ParamName);
    }

    [Fact]
    public void Keep_mask_serves_first_choices_first_then_tokens_in_order()
    {
        var experts = tensor(new long[,] { { 0, 1 }, { 0, 1 }, { 0, 2 }, { 1, 0 } });
        var keep = MoeRouting.KeepMask(experts, 3, capacity: 2);
        var expected = tensor(new bool[,] { { true, true }, { true, false }, { false, true }, { true, false } });
        Assert.True(keep.eq(expected).all().item<bool>());
        Assert.Equal(3.0 / 8, MoeRouting.DroppedShare(keep), 10);
    }

    [Fact]
    public void Keep_mask_keeps_min_of_load_and_capacity_per_expert()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = random.Next(2, 6), t = random.Next(1, 40), capacity = random.Next(0, 8);
            var choice = Enumerable.Range(0, t).Select(_ => (long)random.Next(n)).ToArray();
            var keep = MoeRouting.KeepMask(tensor(choice).unsqueeze(1), n, capacity).squeeze(1).data<bool>().ToArray();
            long droppedTotal = 0;
            for (int e = 0; e < n; e++)
            {
                var mine = Enumerable.Range(0, t).Where(i => choice[i] == e).ToList();
                int kept = mine.Count(i => keep[i]);
                Assert.Equal(Math.Min(mine.Count, capacity), kept);
                Assert.All(mine.Take(kept), i => Assert.True(keep[i]));          // the first ones are kept
                droppedTotal += mine.Count - kept;
            }
            Assert.Equal((double)droppedTotal / t, MoeRouting.DroppedShare(MoeRouting.KeepMask(tensor(choice).unsqueeze(1), n, capacity)), 10);
        }
    }

    [Fact]
    public void Keep_mask_rejects_expert_ids_out_of_range()
    {
        var e = Assert.Throws<ArgumentException>(() => MoeRouting.KeepMask(tensor(new long[,] { { 0 }, { 4 } }), 4, 1));
        Assert.Equal("experts", e.ParamName);
        Assert.Contains("0 … 3", e.Message);
    }

    [Fact]
    public void Moe_layer_output_is_each_tokens_gated_expert_output_and_dropped_tokens_get_zero()
    {
        manual_seed(5);
        var layer = new MoeFeedForward(Small, new MoeConfig(Experts: 3, TopK: 2, CapacityFactor: 0.5));
        var x = randn(2, 5, 16);
        var routed = layer.Route(x);
        var flat = x.reshape(-1, 16);
        var decision = MoeRouting.TopK(layer.Router.forward(flat), 2);
        int capacity = MoeRouting.Capacity(10, 3, 2, 0.5);
        var keep = MoeRouting.KeepMask(decision.Experts, 3, capacity);
        var expected = zeros(10, 16);
        for (int t = 0; t < 10; t++)
            for (int s = 0; s < 2; s++)
                if (keep[t, s].item<bool>())
                {
                    int e = (int)decision.Experts[t, s].item<long>();
                    expected[t] += layer.Experts[e].forward(flat[t].unsqueeze(0)).squeeze(0) * decision.Gates[t, s];
                }
        Assert.True(routed.Output.reshape(-1, 16).allclose(expected, atol: 1e-6));
        Assert.Equal(MoeRouting.DroppedShare(keep), routed.Stats.DroppedShare, 10);
        Assert.True(routed.Stats.DroppedShare > 0);
        Assert.Equal(1.0, routed.Stats.FirstChoiceShare.Sum(), 6);
        Assert.Contains("width 8", Assert.Throws<ArgumentException>(() => layer.Route(randn(2, 8))).Message);
    }

    [Fact]
    public void Output_scale_multiplies_the_layer_output_and_is_validated()
    {
        manual_seed(7);
        var plain = new MoeFeedForward(Small, new MoeConfig(Experts: 3, TopK: 1, CapacityFactor: null));
        var scaled = new MoeFeedForward(Small, new MoeConfig(Experts: 3, TopK: 1, CapacityFactor: null, OutputScale: 3));
        scaled.load_state_dict(plain.state_dict());
        var x = randn(2, 4, 16);
        Assert.True(scaled.forward(x).allclose(plain.forward(x) * 3, atol: 1e-5));
        Assert.Contains("OutputScale", Assert.Throws<ArgumentException>(() => new MoeConfig(4, OutputScale: 0).Validated()).Message);
    }

    [Fact]
    public void One_expert_with_top1_and_no_capacity_limit_is_the_dense_feed_forward()
    {
        manual_seed(6);
        var layer = new MoeFeedForward(Small, new MoeConfig(Experts: 1, TopK: 1, CapacityFactor: null));
        var x = randn(3, 4, 16);
        Assert.True(layer.forward(x).allclose(layer.Experts[0].forward(x), atol: 1e-6));
    }

    [Fact]
    public void Top1_moe_gpt_uses_the_dense_models_parameters_plus_the_router_per_token()
    {
        var moe = new MoeGptModel(Small, new MoeConfig(Experts: 4));
        var dense = new GptModel(Small);
        Assert.Equal(dense.ParameterCount + Small.Layers * Small.Width * 4, moe.ActiveParameterCount);
        long expert = moe.Blocks[0].Moe.ExpertParameters;
        Assert.Equal(moe.ActiveParameterCount + 2 * 3 * expert, moe.ParameterCount);
        var lines = MoeCompute.PerToken(Small, new MoeConfig(Experts: 4));
        Assert.Equal(lines.Sum(l => l.DenseMultiplyAdds) + Small.Layers * Small.Width * 4, lines.Sum(l => l.MoeMultiplyAdds));
    }

    [Fact]
    public void Moe_gpt_starts_at_about_ln_vocab_and_its_balance_loss_near_one()
    {
        manual_seed(0);
        var model = new MoeGptModel(Small with { VocabSize = 65, Width = 32 }, new MoeConfig(Experts: 4));
        var losses = model.Losses(randint(0, 65, [8, 16]), randint(0, 65, [8, 16]));
        Assert.InRange(losses.CrossEntropy.item<float>(), Math.Log(65) - 0.1, Math.Log(65) + 0.1);
        Assert.InRange(losses.BalanceLoss.item<float>(), 1.0, 1.5);
        Assert.Equal(2, losses.Layers.Count);
    }

    [Fact]
    public void A_short_training_run_records_utilisation_windows_that_sum_to_one()
    {
        var text = string.Concat(Enumerable.Repeat("to be or not to be, that is the question. ", 40));
        var tokenizer = CharTokenizer.FromText(text);
        using var corpus = new TokenCorpus(tokenizer.Encode(text));
        var gpt = Small with { VocabSize = tokenizer.VocabSize };
        var options = new MoeRunOptions(Steps: 6, BatchSize: 4, ContextLength: 16, WindowSteps: 4, EvalBatches: 2);
        using var run = MoeExperiment.TrainMoe("moe", corpus, gpt, new MoeConfig(Experts: 3), options);
        Assert.Equal(6, run.History.Count);
        Assert.Equal([4, 6], run.WindowEnds);
        Assert.All(run.Utilisation.SelectMany(l => l), row => Assert.Equal(1.0, row.Sum(), 6));
        Assert.True(double.IsFinite(run.ValidationLoss));
        Assert.Contains("balance", run.History[0].Metrics.Keys);
        using var dense = MoeExperiment.TrainDense("dense", corpus, gpt, options);
        Assert.Equal(dense.TotalParameters, dense.ActiveParameters);
        Assert.True(run.TotalParameters > dense.TotalParameters);
    }
}
