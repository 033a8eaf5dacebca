using TorchSharp;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>The decoding strategies on hand-made distributions, ties and edge cases included.</summary>
public class DecodingTests : TorchTest
{
    static Tensor Logits(params double[] z) => tensor(z, dtype: ScalarType.Float64);
    static double[] Values(Tensor t) => t.to_type(ScalarType.Float64).cpu().data<double>().ToArray();

    static void Near(double[] expected, Tensor actual, double tolerance = 1e-12)
    {
        var got = Values(actual);
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(expected[i] - got[i]) <= tolerance, $"[{i}] {got[i]} vs {expected[i]} (all: {string.Join(", ", got)})");
    }

    // Probabilities 0.5, 0.3, 0.15, 0.05 in a shuffled id order.
    static Tensor Shuffled => Logits(Math.Log(0.15), Math.Log(0.5), Math.Log(0.05), Math.Log(0.3));

    [Fact]
    public void Greedy_puts_all_mass_on_the_lowest_id_among_tied_maxima()
    {
        Near([0, 0, 1, 0], Decoding.Greedy(Logits(0.1, 2.0, 3.0, -1.0)));
        Near([0, 1, 0, 0], Decoding.Greedy(Logits(0.1, 3.0, 3.0, -1.0)));
        var batch = Decoding.Greedy(tensor(new float[,] { { 1, 5, 5 }, { 7, 7, 7 } }));
        Assert.Equal(ScalarType.Float32, batch.dtype);
        Near([0, 1, 0, 1, 0, 0], batch.reshape(-1));
    }

    [Fact]
    public void Temperature_scales_log_odds_and_zero_is_greedy()
    {
        var z = Logits(2.0, 1.0, -0.5, 0.0);
        foreach (var tau in new[] { 0.25, 0.5, 1.0, 2.0, 10.0 })
        {
            var q = Values(Decoding.Temperature(z, tau));
            Assert.Equal(1.0, q.Sum(), 12);
            Assert.Equal((2.0 - (-0.5)) / tau, Math.Log(q[0]) - Math.Log(q[2]), 10);
        }
        Near(Values(z.softmax(-1)), Decoding.Temperature(z, 1.0));
        Near([1, 0, 0, 0], Decoding.Temperature(z, 0));
        var hot = Values(Decoding.Temperature(z, 1e6));
        Assert.All(hot, p => Assert.Equal(0.25, p, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Decoding.Temperature(z, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Decoding.Temperature(z, double.NaN));
    }

    [Fact]
    public void Top_k_keeps_the_k_largest_renormalised_and_keeps_ties_at_the_boundary()
    {
        var z = Shuffled;   // probabilities 0.15, 0.5, 0.05, 0.3
        Near([0, 0.5 / 0.8, 0, 0.3 / 0.8], Decoding.TopK(z, 2));
        Near([0, 1, 0, 0], Decoding.TopK(z, 1));
        // Ties at the boundary: k = 2 with the 2nd and 3rd largest equal keeps three tokens.
        var tied = Decoding.TopK(Logits(3.0, 1.0, 1.0, 0.0), 2);
        Assert.Equal(3, Decoding.Kept(tied)[0]);
        var e = new[] { Math.Exp(3.0), Math.Exp(1.0) };
        Near([e[0] / (e[0] + 2 * e[1]), e[1] / (e[0] + 2 * e[1]), e[1] / (e[0] + 2 * e[1]), 0], tied);
        Assert.Equal(4, Decoding.Kept(Decoding.TopK(Logits(1, 1, 1, 1), 1))[0]);   // all tied: all kept
        // k ≥ V: no crash, the full softmax.
        Near(Values(z.softmax(-1)), Decoding.TopK(z, 4));
        Near(Values(z.softmax(-1)), Decoding.TopK(z, 100));
        // Temperature applies to the kept tokens.
        var q = Values(Decoding.TopK(z, 3, temperature: 0.5));
        Assert.Equal(0, q[2]);
        Assert.Equal(2 * Math.Log(0.5 / 0.3), Math.Log(q[1] / q[3]), 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => Decoding.TopK(z, 0));
    }

    [Fact]
    public void Top_p_keeps_the_token_that_crosses_p_in_probability_order()
    {
        var z = Shuffled;   // sorted: 0.5 (id 1), 0.3 (id 3), 0.15 (id 0), 0.05 (id 2)
        Near([0, 1, 0, 0], Decoding.TopP(z, 0.4), 1e-12);          // the top token alone already crosses 0.4
        Near([0, 1, 0, 0], Decoding.TopP(z, 0.5 - 1e-9), 1e-12);
        Near([0, 0.5 / 0.8, 0, 0.3 / 0.8], Decoding.TopP(z, 0.7), 1e-12);   // 0.5 < 0.7, then 0.3 crosses it: kept
        Near([0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95], Decoding.TopP(z, 0.9), 1e-12);
        Near([0.15, 0.5, 0.05, 0.3], Decoding.TopP(z, 0.99), 1e-12);
        Near([0.15, 0.5, 0.05, 0.3], Decoding.TopP(z, 1.0), 1e-12);
        Near([0, 1, 0, 0], Decoding.TopP(z, 1e-6), 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => Decoding.TopP(z, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Decoding.TopP(z, 1.5));
    }

    [Fact]
    public void Top_p_keeps_tokens_tied_with_the_crossing_one_and_matches_a_plain_loop_on_random_logits()
    {
        // 0.4, 0.2, 0.2, 0.2: p = 0.5 is crossed by one of the three tied tokens; all three are kept.
        var tied = Decoding.TopP(Logits(Math.Log(0.4), Math.Log(0.2), Math.Log(0.2), Math.Log(0.2)), 0.5);
        Assert.Equal(4, Decoding.Kept(tied)[0]);
        var random = new Random(3);
        for (int trial = 0; trial < 50; trial++)
        {
            var z = Enumerable.Range(0, 12).Select(_ => random.NextDouble() * 6 - 3).ToArray();
            double p = random.NextDouble() * 0.98 + 0.01;
            var probs = z.Select(Math.Exp).ToArray();
            double sum = probs.Sum();
            probs = probs.Select(x => x / sum).ToArray();
            var order = Enumerable.Range(0, 12).OrderByDescending(i => probs[i]).ToArray();
            var keep = new bool[12];
            double mass = 0;
            foreach (var i in order)
            {
                keep[i] = true;
                mass += probs[i];
                if (mass >= p) break;
            }
            double kept = probs.Where((_, i) => keep[i]).Sum();
            Near(probs.Select((x, i) => keep[i] ? x / kept : 0).ToArray(), Decoding.TopP(Logits(z), p), 1e-9);
        }
    }

    [Fact]
    public void Repetition_penalty_divides_positive_logits_and_multiplies_negative_ones_once_per_token()
    {
        var z = Logits(2.0, -1.0, 0.0, 3.0, -2.0);
        var penalised = Decoding.RepetitionPenalty(z, [0, 1, 2, 1, 1], 2.0);
        Near([1.0, -2.0, 0.0, 3.0, -2.0], penalised);
        Near([2.0, -1.0, 0.0, 3.0, -2.0], z);                                  // the input is untouched
        Near(Values(z), Decoding.RepetitionPenalty(z, [0, 1, 4], 1.0));          // θ = 1 changes nothing
        Near(Values(z), Decoding.RepetitionPenalty(z, Array.Empty<long>(), 3.0));
        // Seen tokens always lose probability (θ > 1) and unseen ones gain.
        var before = Values(z.softmax(-1));
        var after = Values(penalised.softmax(-1));
        Assert.True(after[0] < before[0] && after[1] < before[1]);
        Assert.True(after[3] > before[3] && after[4] > before[4]);
        Assert.Throws<ArgumentException>(() => Decoding.RepetitionPenalty(z, [5], 2.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Decoding.RepetitionPenalty(z, [0], 0));
    }

    [Fact]
    public void Settings_compose_in_order_and_label_themselves()
    {
        var z = Logits(2.0, -1.0, 0.5, 1.5);
        var settings = new DecodingSettings(Temperature: 0.7, TopK: 3, TopP: 0.8, RepetitionPenalty: 1.5);
        Assert.Equal("τ 0.7, top-k 3, top-p 0.8, penalty 1.5", settings.Label);
        var expected = Decoding.TopP(Decoding.TopK(Decoding.RepetitionPenalty(z, [0], 1.5), 3, 0.7).log(), 0.8);
        Near(Values(expected), settings.Distribution(z, [[0]]), 1e-12);
        Near([1, 0, 0, 0], DecodingSettings.Greedy.Distribution(z));
        Near([0, 0, 0, 1], new DecodingSettings(0, RepetitionPenalty: 2).Distribution(z, [[0]]));   // 2 → 1 < 1.5
        Assert.Equal("greedy", DecodingSettings.Greedy.Label);
        Assert.Throws<ArgumentException>(() => new DecodingSettings(RepetitionPenalty: 2).Distribution(z));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecodingSettings(TopK: 0).Validated());
    }

    [Fact]
    public void Sampling_with_a_seeded_generator_is_reproducible_and_follows_the_distribution()
    {
        var q = tensor(new[] { 0.5, 0.3, 0.2, 0.0 });
        var a = Enumerable.Range(0, 10).SelectMany(_ => Decoding.Sample(q, new Generator(7))).ToArray();
        var g1 = new Generator(11);
        var g2 = new Generator(11);
        var draws = Decoding.Sample(q.unsqueeze(0).expand(20000, -1).contiguous(), g1);
        Assert.Equal(draws, Decoding.Sample(q.unsqueeze(0).expand(20000, -1).contiguous(), g2));
        Assert.Single(a.Distinct());                                            // same seed, same first draw
        Assert.DoesNotContain(3L, draws);                                       // probability 0 is never drawn
        for (int i = 0; i < 3; i++) Assert.InRange(draws.Count(d => d == i) / 20000.0, Values(q)[i] - 0.015, Values(q)[i] + 0.015);
    }

    [Fact]
    public void Bad_shapes_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => Decoding.TopK(zeros(2, 3, 4), 2));
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Equal("logits", e.ParamName);
    }
}

/// <summary>Beam search, the rollout and the text metrics.</summary>
public class DecodingSearchTests : TorchTest
{
    [Fact]
    public void Beam_search_finds_the_path_greedy_misses_and_width_one_is_greedy()
    {
        // Step 1: A 0.6, B 0.4. After A: 0.5 / 0.5. After B: 0.9 / 0.1. Greedy: A then 0.5 → 0.30; best: B, 0.9 → 0.36.
        double[][] Next(IReadOnlyList<long[]> beams) => beams.Select(b => b.Length == 0
            ? new[] { Math.Log(0.6), Math.Log(0.4) }
            : b[0] == 0 ? new[] { Math.Log(0.5), Math.Log(0.5) } : new[] { Math.Log(0.9), Math.Log(0.1) }).ToArray();
        var greedy = BeamSearch.Search(Next, 2, 1);
        var beam = BeamSearch.Search(Next, 2, 2);
        Assert.Equal([0L, 0L], greedy.Tokens);                 // ties go to the smaller id
        Assert.Equal(Math.Log(0.3), greedy.LogProb, 12);
        Assert.Equal([1L, 0L], beam.Tokens);
        Assert.Equal(Math.Log(0.36), beam.LogProb, 12);
        Assert.Equal(beam.Tokens, BeamSearch.Search(Next, 2, 50).Tokens);    // width ≥ all candidates: exhaustive
        Assert.Empty(BeamSearch.Search(Next, 0, 3).Tokens);
        Assert.Throws<ArgumentOutOfRangeException>(() => BeamSearch.Search(Next, 2, 0));
    }

    [Fact]
    public void On_a_model_width_one_equals_the_greedy_rollout_and_wider_beams_score_at_least_as_high_here()
    {
        manual_seed(5);
        using var model = new GptModel(new GptConfig(VocabSize: 7, ContextLength: 8, Layers: 1, Heads: 2, Width: 16));
        long[] prompt = [1, 2, 3];
        var greedy = Rollout.Sample(model, [prompt], 10, DecodingSettings.Greedy, new Generator(1))[0];   // window slides past 8
        var width1 = BeamSearch.Search(model, prompt, 10, 1);
        Assert.Equal(greedy.Tokens, width1.Tokens);
        Assert.Equal(greedy.LogLikelihood, width1.LogLikelihood, 6);
        var width4 = BeamSearch.Search(model, prompt, 10, 4);
        Assert.True(width4.LogLikelihood >= greedy.LogLikelihood - 1e-9);
        // Scoring the beam's tokens along the same windows gives the same log-likelihood.
        var scored = Rollout.Score(model, [prompt], [width4.Tokens])[0];
        Assert.Equal(width4.LogLikelihood, scored.LogLikelihood, 6);
    }

    [Fact]
    public void Rollout_samples_a_batch_reproducibly_and_scores_what_it_sampled()
    {
        manual_seed(6);
        using var model = new GptModel(new GptConfig(VocabSize: 9, ContextLength: 6, Layers: 1, Heads: 1, Width: 8));
        long[][] prompts = [[1, 2], [3, 4], [5, 6]];
        var settings = new DecodingSettings(0.9, TopK: 5, RepetitionPenalty: 1.3);
        var a = Rollout.Sample(model, prompts, 12, settings, new Generator(3));
        var b = Rollout.Sample(model, prompts, 12, settings, new Generator(3));
        Assert.Equal(a.Select(c => c.Tokens), b.Select(c => c.Tokens));
        Assert.All(a, c => Assert.Equal(12, c.Tokens.Length));
        var scored = Rollout.Score(model, prompts, a.Select(c => c.Tokens).ToArray());
        for (int i = 0; i < 3; i++) Assert.Equal(a[i].LogLikelihood, scored[i].LogLikelihood, 6);
        Assert.All(a, c => Assert.True(c.MeanLogLikelihood < 0));
        var unigram = Rollout.FromFixedDistribution(model, prompts, 5, tensor(new[] { 0, 0, 0, 0, 0, 0, 0, 0, 1.0 }), new Generator(1));
        Assert.All(unigram, c => Assert.Equal([8L, 8, 8, 8, 8], c.Tokens));
        Assert.Throws<ArgumentException>(() => Rollout.Sample(model, [[1], [2, 3]], 2, settings, new Generator(1)));
    }

    [Fact]
    public void Mean_entropy_matches_the_closed_form_and_the_log_likelihood_of_tau_1_samples()
    {
        manual_seed(7);
        using var model = new GptModel(new GptConfig(VocabSize: 9, ContextLength: 6, Layers: 1, Heads: 1, Width: 8));
        long[][] prompts = [[1, 2], [3, 4]];
        // One step: the entropy of softmax of the model's last logits.
        var one = Rollout.Sample(model, prompts, 1, new DecodingSettings(1.0), new Generator(2));
        var h = Rollout.MeanEntropy(model, one);
        using (no_grad())
        {
            var logP = model.forward(tensor(new long[] { 1, 2, 3, 4 }, [2, 2]))[.., -1].to_type(ScalarType.Float64).log_softmax(-1);
            var want = (-(logP.exp() * logP).sum(-1)).data<double>().ToArray();
            for (int r = 0; r < 2; r++) Assert.Equal(want[r], h[r], 9);
        }
        // Many τ = 1 samples: mean log-likelihood ≈ −mean entropy (E[ln p] = −H), within a few standard errors.
        var many = Rollout.Sample(model, Enumerable.Repeat(new long[] { 1, 2 }, 400).ToArray(), 10, new DecodingSettings(1.0), new Generator(3));
        var diff = many.Zip(Rollout.MeanEntropy(model, many), (c, e) => c.MeanLogLikelihood + e).ToArray();
        double mean = diff.Average(), se = Math.Sqrt(diff.Sum(d => (d - mean) * (d - mean)) / (diff.Length - 1) / diff.Length);
        Assert.True(Math.Abs(mean) < 4 * se, $"{mean} vs se {se}");
        Assert.Throws<ArgumentException>(() => Rollout.MeanEntropy(model, []));
    }

    [Fact]
    public void Distinct_n_pools_samples_and_repetition_rate_counts_earlier_repeats()
    {
        Assert.Equal(1.0, TextMetrics.DistinctN(["abcd"], 2));
        Assert.Equal(0.5, TextMetrics.DistinctN(["abcd", "abcd"], 2));              // identical samples halve it
        Assert.Equal(2 / 5.0, TextMetrics.DistinctN(["ababab"], 2));                // ab ba ab ba ab
        Assert.Equal(0, TextMetrics.DistinctN(["a"], 2));
        Assert.Equal(3 / 5.0, TextMetrics.RepetitionRate("ababab", 2));
        Assert.Equal(0, TextMetrics.RepetitionRate("abcdef", 2));
        Assert.Equal(0, TextMetrics.RepetitionRate("", 3));
    }
}
