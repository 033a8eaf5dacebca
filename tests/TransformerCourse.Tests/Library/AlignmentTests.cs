using TorchSharp;
using TransformerCourse.Alignment;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>Lesson 21's library: sequence log-probs, Bradley–Terry, DPO, the PPO pieces, the reward model and the trainers.</summary>
public class AlignmentTests : TorchTest
{
    static readonly CharTokenizer Letters = new("abcdeABC ");

    static GptModel Tiny(int seed = 1)
    {
        manual_seed(seed);
        var model = new GptModel(new GptConfig(VocabSize: 9, ContextLength: 16, Layers: 1, Heads: 2, Width: 16));
        model.eval();
        return model;
    }

    static Tensor Tokens(int seed, long rows = 3, long length = 10)
    {
        var g = new Generator((ulong)seed);
        return randint(0, 9, [rows, length], generator: g);
    }

    // ----- sequence log-probabilities
    [Fact]
    public void Sequence_log_prob_is_the_sum_of_completion_token_log_probs_by_hand()
    {
        var model = Tiny();
        var tokens = Tokens(3);
        const int p = 4;
        using var noGrad = no_grad();
        var ours = SequenceLogProbs.Of(model, tokens, p);
        for (int row = 0; row < 3; row++)
        {
            double manual = 0;
            for (int t = p; t < tokens.shape[1]; t++)
            {
                var logits = model.forward(tokens[row..(row + 1), ..t])[0, -1];
                manual += logits.log_softmax(-1)[tokens[row, t].item<long>()].item<float>();
            }
            Assert.Equal(manual, ours[row].item<float>(), 4);
        }
        Assert.Equal(new long[] { 3, 6 }, SequenceLogProbs.PerToken(model, tokens, p).shape);
    }

    [Fact]
    public void Sequence_log_prob_agrees_with_the_rollout_scorer()
    {
        var model = Tiny();
        var tokens = Tokens(4, rows: 2, length: 9);
        var rows = Enumerable.Range(0, 2).Select(r => tokens[r].data<long>().ToArray()).ToArray();
        var scored = Rollout.Score(model, rows.Select(r => r[..3]).ToArray(), rows.Select(r => r[3..]).ToArray());
        using var noGrad = no_grad();
        var ours = SequenceLogProbs.Of(model, tokens, 3);
        for (int r = 0; r < 2; r++) Assert.Equal(scored[r].LogLikelihood, ours[r].item<float>(), 4);
    }

    [Fact]
    public void Sequence_log_prob_names_a_bad_prompt_length()
    {
        var model = Tiny();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SequenceLogProbs.Of(model, Tokens(1), 10));
        Assert.Contains("promptLength", error.Message);
        Assert.Contains("[3, 10]", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceLogProbs.Of(model, Tokens(1), 0));
    }

    [Fact]
    public void Token_kl_is_zero_for_the_same_model_and_matches_a_manual_sum_otherwise()
    {
        var (a, b) = (Tiny(1), Tiny(2));
        var tokens = Tokens(5);
        using var noGrad = no_grad();
        var la = SequenceLogProbs.CompletionLogSoftmax(a, tokens, 4);
        var lb = SequenceLogProbs.CompletionLogSoftmax(b, tokens, 4);
        Assert.True(SequenceLogProbs.TokenKl(la, la).abs().max().item<float>() < 1e-6);
        var kl = SequenceLogProbs.TokenKl(la, lb);
        double manual = 0;
        var (pa, pb) = (la[0].exp(), lb[0].exp());
        for (int t = 0; t < 6; t++)
            for (int v = 0; v < 9; v++)
                manual += pa[t, v].item<float>() * Math.Log(pa[t, v].item<float>() / pb[t, v].item<float>());
        Assert.Equal(manual, kl[0].item<float>(), 4);
        Assert.True(kl.min().item<float>() > 0);
        Assert.Throws<ArgumentException>(() => SequenceLogProbs.TokenKl(la, lb[.., 1..]));
    }

    // ----- Bradley–Terry
    [Fact]
    public void Bradley_terry_is_ln2_for_equal_rewards_and_a_sigmoid_of_the_difference()
    {
        var zero = zeros(5);
        Assert.Equal(Math.Log(2), BradleyTerry.Loss(zero, zero).item<float>(), 6);
        var w = tensor(new float[] { 2f, -1f, 0.5f });
        var l = tensor(new float[] { 1f, 0f, 0.5f });
        var p = BradleyTerry.Probability(w, l).data<float>().ToArray();
        Assert.Equal(1 / (1 + Math.Exp(-1)), p[0], 6);
        Assert.Equal(1 / (1 + Math.Exp(1)), p[1], 6);
        Assert.Equal(-(Math.Log(p[0]) + Math.Log(p[1]) + Math.Log(0.5)) / 3, BradleyTerry.Loss(w, l).item<float>(), 5);
        Assert.Equal(0.5, BradleyTerry.Accuracy(w, l), 9);   // one right, one wrong, one tie counted half
        var error = Assert.Throws<ArgumentException>(() => BradleyTerry.Loss(w, zeros(2)));
        Assert.Contains("[3]", error.Message);
    }

    // ----- DPO
    [Fact]
    public void Dpo_loss_is_ln2_when_the_policy_equals_the_reference()
    {
        var g = new Generator(7);
        var (a, b) = (randn([8], generator: g) * 10, randn([8], generator: g) * 10);
        foreach (var beta in new[] { 0.01, 0.1, 1.0 })
            Assert.Equal(Math.Log(2), Dpo.Loss(a, b, a, b, beta).item<float>(), 6);
        Assert.Equal(Math.Log(2), Dpo.PairLoss(-12.5, -30, -12.5, -30, 0.1), 12);
    }

    [Fact]
    public void Dpo_gradient_raises_the_chosen_and_lowers_the_rejected_log_prob_and_grows_with_beta()
    {
        double previous = 0;
        foreach (var beta in new[] { 0.05, 0.1, 0.5 })
        {
            var chosen = tensor(new float[] { -20f, -15f }).requires_grad_(true);
            var rejected = tensor(new float[] { -18f, -16f }).requires_grad_(true);
            Dpo.Loss(chosen, rejected, chosen.detach().clone(), rejected.detach().clone(), beta).backward();
            var (gw, gl) = (chosen.grad!.data<float>().ToArray(), rejected.grad!.data<float>().ToArray());
            Assert.All(gw, g => Assert.True(g < 0));                             // descending increases ln π(y_w)
            Assert.All(gl, g => Assert.True(g > 0));                             // and decreases ln π(y_l)
            Assert.Equal(-beta / 2 / 2, gw[0], 6);                               // −β σ(0) / N pairs
            Assert.True(Math.Abs(gw[0]) > previous);
            previous = Math.Abs(gw[0]);
        }
    }

    [Fact]
    public void Dpo_matches_its_closed_form_gradient_and_pair_loss_away_from_the_reference()
    {
        var chosen = tensor(new double[] { -11.0 }).requires_grad_(true);
        var rejected = tensor(new double[] { -9.0 }).requires_grad_(true);
        var terms = Dpo.Compute(chosen, rejected, tensor(new double[] { -12.0 }), tensor(new double[] { -8.5 }), 0.3);
        terms.Loss.backward();
        Assert.Equal(Dpo.PairLoss(-11, -9, -12, -8.5, 0.3), terms.Loss.item<double>(), 10);
        Assert.Equal(Dpo.ChosenGradient(-11, -9, -12, -8.5, 0.3), chosen.grad!.item<double>(), 10);
        Assert.Equal(-Dpo.ChosenGradient(-11, -9, -12, -8.5, 0.3), rejected.grad!.item<double>(), 10);
        Assert.Equal(0.3 * 1.0, terms.ChosenRewards.item<double>(), 10);
        Assert.Equal(0.3 * -0.5, terms.RejectedRewards.item<double>(), 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dpo.Loss(chosen, rejected, chosen, rejected, 0));
        var error = Assert.Throws<ArgumentException>(() => Dpo.Loss(chosen, zeros(2, dtype: ScalarType.Float64), chosen, rejected, 0.1));
        Assert.Contains("policyRejected", error.Message);
    }

    // ----- PPO
    [Fact]
    public void Ppo_clips_on_hand_made_numbers_and_clipped_tokens_get_no_gradient()
    {
        var ratios = new[] { 1.5, 0.5, 1.1, 0.5 };
        var advantages = tensor(new double[] { 1, 1, -1, -1 }).reshape(1, 4);
        var old = tensor(new double[] { -1, -2, -3, -4 }).reshape(1, 4);
        var logProbs = (old + tensor(ratios.Select(r => Math.Log(r)).ToArray()).reshape(1, 4)).detach().requires_grad_(true);
        var terms = Ppo.Objective(logProbs, old, advantages, 0.2);
        var surrogate = terms.Surrogate.data<double>().ToArray();
        Assert.Equal(new[] { 1.2, 0.5, -1.1, -0.8 }, surrogate.Select(v => Math.Round(v, 9)));
        Assert.Equal(0.5, terms.ClippedShare, 9);                                  // tokens 0 and 3
        Assert.Equal((1.2 + 0.5 - 1.1 - 0.8) / 4, terms.Objective.item<double>(), 9);
        terms.Objective.backward();
        var grad = logProbs.grad!.data<double>().ToArray();
        Assert.Equal(0, grad[0], 12);
        Assert.Equal(0, grad[3], 12);
        Assert.Equal(0.5 * 1 / 4, grad[1], 9);                                     // ∂(r·A)/∂ln π = r·A
        Assert.Equal(1.1 * -1 / 4, grad[2], 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => { Ppo.Objective(logProbs, old, advantages, 0); });
    }

    [Fact]
    public void Ppo_rewards_carry_the_kl_penalty_per_token_and_the_score_at_the_end()
    {
        var old = tensor(new double[] { -1, -2, -3, -1, -1, -1 }).reshape(2, 3);
        var reference = tensor(new double[] { -1.5, -2, -2, -1, -2, -1 }).reshape(2, 3);
        var rewards = Ppo.KlPenalisedRewards(old, reference, tensor(new double[] { 2, -1 }), 0.1);
        Assert.Equal(new[] { -0.05, 0, 0.1 + 2, 0, -0.1, 0 - 1 }, rewards.reshape(-1).data<double>().ToArray().Select(v => Math.Round(v, 9)));
        var advantages = Ppo.Advantages(rewards);
        // returns-to-go: row 0 [2.05, 2.1, 2.1], row 1 [-1.1, -1.1, -1]; minus the per-position batch mean
        var expected = new[] { 2.05 - 0.475, 2.1 - 0.5, 2.1 - 0.55, -1.1 - 0.475, -1.1 - 0.5, -1 - 0.55 };
        Assert.Equal(expected.Select(v => Math.Round(v, 9)), advantages.reshape(-1).data<double>().ToArray().Select(v => Math.Round(v, 9)));
        var error = Assert.Throws<ArgumentException>(() => Ppo.KlPenalisedRewards(old, reference, tensor(new double[] { 1 }), 0.1));
        Assert.Contains("1 entries for 2 rollouts", error.Message);
    }

    // ----- reward model, copies, preference data, trainers
    [Fact]
    public void Reward_model_starts_at_zero_reward_so_the_loss_starts_at_ln2()
    {
        manual_seed(2);
        var rm = new RewardModel(new GptConfig(VocabSize: 9, ContextLength: 12, Layers: 1, Heads: 2, Width: 16));
        var (a, b) = (Tokens(1, 4, 12), Tokens(2, 4, 12));
        var (ra, rb) = (rm.forward(a), rm.forward(b));
        Assert.Equal(new long[] { 4 }, ra.shape);
        Assert.Equal(Math.Log(2), BradleyTerry.Loss(ra, rb).item<float>(), 6);
        var error = Assert.Throws<ArgumentException>(() => rm.forward(Tokens(1, 2, 13)));
        Assert.Contains("context length 12", error.Message);
    }

    [Fact]
    public void Policy_copy_gives_the_same_outputs_and_a_frozen_copy_needs_no_gradient()
    {
        var model = Tiny();
        var copy = PolicyCopy.Of(model, frozen: true);
        var tokens = Tokens(9);
        using (no_grad()) Assert.True(model.forward(tokens).allclose(copy.forward(tokens)));
        Assert.All(copy.parameters(), p => Assert.False(p.requires_grad));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void Preference_pairs_put_a_completion_with_the_property_against_one_without()
    {
        var model = Tiny(3);
        var prompts = PreferenceData.Prompts(tensor(Letters.Encode("abc abc ABC abcde abd cab a")), 12, 3, seed: 1);
        var report = PreferenceData.FromSamples(model, Letters, prompts, 4, 6, LowerCaseStyle.Holds, seed: 5);
        Assert.Equal(48, report.Samples);
        Assert.True(report.PromptsWithBoth > 0);
        foreach (var pair in report.Set.Pairs)
        {
            Assert.True(LowerCaseStyle.Holds(Letters.Decode(pair.Chosen)));
            Assert.False(LowerCaseStyle.Holds(Letters.Decode(pair.Rejected)));
        }
        Assert.Equal(new long[] { report.PromptsWithBoth, 9 }, report.Set.Chosen.shape);
        var again = PreferenceData.FromSamples(model, Letters, prompts, 4, 6, LowerCaseStyle.Holds, seed: 5);
        Assert.True(again.Set.Chosen.eq(report.Set.Chosen).all().item<bool>());   // deterministic
    }

    static PreferenceSet HandMade(int n, int seed)
    {
        var random = new Random(seed);
        long[] Draw(bool capitals) => Enumerable.Range(0, 5).Select(_ => (long)(capitals && random.Next(2) == 0 ? 5 + random.Next(3) : random.Next(5))).ToArray();
        return new PreferenceSet(Enumerable.Range(0, n).Select(_ =>
        {
            var prompt = Draw(false)[..3];
            var rejected = Draw(true);
            rejected[random.Next(5)] = 5;   // at least one capital
            return new PreferencePair(prompt, Draw(false), rejected);
        }).ToList());
    }

    [Fact]
    public void Reward_model_trainer_starts_at_ln2_and_learns_the_preference()
    {
        manual_seed(4);
        var rm = new RewardModel(new GptConfig(VocabSize: 9, ContextLength: 8, Layers: 1, Heads: 2, Width: 16));
        var run = RewardModelTrainer.Train(rm, HandMade(64, 1), HandMade(32, 2), steps: 60, batchSize: 16, learningRate: 3e-3, evalInterval: 30, seed: 1, CPU);
        Assert.Equal(Math.Log(2), run.InitialLoss, 5);
        Assert.Equal(60, run.History.Count);
        Assert.Equal(new[] { 30, 60 }, run.Evals.Select(e => e.Step));
        Assert.True(run.Final.Accuracy > 0.8, $"held-out accuracy {run.Final.Accuracy}");
    }

    [Fact]
    public void Dpo_trainer_starts_at_ln2_and_zero_kl_then_widens_the_margin()
    {
        var policy = Tiny(6);
        var reference = PolicyCopy.Of(policy, frozen: true);
        var run = DpoTrainer.Train(policy, reference, HandMade(48, 3), HandMade(16, 4),
            new DpoOptions(Beta: 0.5, Steps: 20, BatchSize: 8, LearningRate: 3e-3, EvalInterval: 10), CPU);
        Assert.Equal(Math.Log(2), run.Initial.Loss, 5);
        Assert.Equal(0, run.Initial.Kl, 5);
        Assert.Equal(new[] { 0, 10, 20 }, run.Evals.Select(e => e.Step));
        Assert.True(run.Final.Margin > 0.1, $"margin {run.Final.Margin}");
        Assert.True(run.Final.Kl > 0);
        Assert.All(run.History, s => Assert.Contains("kl", s.Metrics.Keys));
    }

    [Fact]
    public void Ppo_rollouts_start_with_ratio_one_and_the_update_moves_the_policy()
    {
        var policy = Tiny(8);
        var reference = PolicyCopy.Of(policy, frozen: true);
        manual_seed(8);
        var rm = new RewardModel(new GptConfig(VocabSize: 9, ContextLength: 16, Layers: 1, Heads: 2, Width: 16));
        var prompts = PreferenceData.Prompts(tensor(Letters.Encode("abc abc ABC abcde abd cab a")), 8, 3, seed: 2);
        var batch = PpoRollouts.Collect(policy, reference, rm, prompts, 5, beta: 0.1, seed: 3);
        Assert.Equal(new long[] { 8, 5 }, batch.OldLogProbs.shape);
        Assert.True(batch.Rewards.abs().max().item<float>() < 1e-6);   // same policy as the reference and a zero-initialised reward head
        using (no_grad())
        {
            var start = Ppo.Objective(SequenceLogProbs.PerToken(policy, batch.Tokens, 3), batch.OldLogProbs, batch.Advantages);
            Assert.True((start.Ratio - 1).abs().max().item<float>() < 1e-5);
        }
        for (int r = 0; r < 8; r++) Assert.Equal(batch.Samples[r].LogLikelihood, batch.OldLogProbs[r].sum().item<float>(), 3);
        var history = PpoRollouts.Update(policy, batch with { Advantages = randn(8, 5, generator: new Generator(1)) }, 3, 1e-2);
        Assert.Equal(3, history.Count);
        Assert.True(Math.Abs(history[^1].Metrics["ratio"] - 1) > 1e-4);
    }
}
