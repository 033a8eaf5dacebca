using TorchSharp;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 28 (Sampling, Inspection and Shipping).</summary>
public static class Lesson28
{
    /// <summary>
    /// Exercise 1: the distribution the sampler draws from: temperature, then top-k, then softmax. Probed on the checker's
    /// own logits at several temperatures and k (including k = 1 and k = V). Decoding.TopK (also reached through
    /// DecodingSettings.Distribution) is the routine being rebuilt, so calling it does not count.
    /// </summary>
    public static Verdict SamplingDistribution(Func<Tensor, double, int, Tensor> yours) => Check("your sampling distribution",
        "reread section 2: which of the two knobs acts on the logits before the softmax, and how does a character that top-k removes end up with probability exactly 0 while the rest still sum to 1?",
        () =>
        {
            using var generator = new Generator(28);
            var z = randn([65], generator: generator) * 2;
            foreach (var (temperature, k) in new[] { (0.7, 5), (1.5, 1), (0.5, 65), (2.0, 10) })
            {
                string set = $"(temperature {temperature}, k {k})";
                var p = ExpectShape(Forbidding(["Decoding.TopK"], () => yours(z.clone(), temperature, k)), [65], $"the distribution {set}");
                Expect(p.isfinite().all().item<bool>() && p.ge(0).all().item<bool>(), $"{set}: some probabilities are negative, NaN or infinite.");
                double sum = p.to_type(ScalarType.Float64).sum().item<double>();
                Expect(Math.Abs(sum - 1) < 1e-4, $"{set}: the probabilities sum to {sum:0.####}, not 1 — were the dropped characters zeroed after the softmax, without renormalising?");
                var kept = p.gt(0);
                long count = kept.sum().item<long>();
                Expect(count == k, $"{set}: {count} characters keep a non-zero probability instead of k = {k}.");
                var (_, best) = z.topk(k);
                Expect(kept[best].all().item<bool>(), $"{set}: the characters kept are not the {k} with the largest logits.");
                if (k < 2) { Expect(Math.Abs(p[best[0]].item<float>() - 1) < 1e-5, $"{set}: with k = 1 the top character must get probability 1."); continue; }
                // Among the kept characters ln p_i − ln p_j = (z_i − z_j)/τ: the slope of ln p against z is 1/τ.
                var zi = z.masked_select(kept).to_type(ScalarType.Float64);
                var lp = p.masked_select(kept).to_type(ScalarType.Float64).log();
                var zc = zi - zi.mean();
                double slope = (zc * (lp - lp.mean())).sum().item<double>() / zc.pow(2).sum().item<double>();
                Expect(Math.Abs(slope - temperature) > 1e-3 || Math.Abs(temperature - 1) < 1e-9, $"{set}: the logits were multiplied by the temperature; a higher temperature must flatten the distribution, not sharpen it.");
                Expect(Math.Abs(slope - 1) > 1e-3, $"{set}: the temperature has no effect on the kept probabilities.");
                Expect(Math.Abs(slope - 1 / temperature) < 1e-3, $"{set}: the kept probabilities are not a softmax of the logits divided by the temperature (ln p changes by {slope:0.###} per unit of logit, expected {1 / temperature:0.###}).");
            }
        });

    /// <summary>
    /// Exercise 2: greedy generation with a <see cref="KvCache"/>: the prompt once, then one new token per step. The
    /// tokens are compared with full recomputation (no cache), and the model counts the positions it computes, so a loop
    /// that re-feeds the sequence fails even though its tokens are right. TextSampler.Generate is not allowed.
    /// </summary>
    public static Verdict GreedyWithCache(Func<GptModel, long[], int, long[]> yours, GptModel model, long[] prompt) => Check("your greedy loop",
        "reread section 3 (the KV cache): what does the cache already hold after each call, so what is the only thing the next call has to feed in?",
        () =>
        {
            int[] counts = [Math.Min(40, model.Config.ContextLength - prompt.Length), 1];
            foreach (var count in counts)
            {
                var expected = TextSampler.Generate(model, prompt, count, new SamplingOptions(Temperature: 0), useCache: false);
                long before = model.PositionsComputed;
                var got = Forbidding(["TextSampler.Generate"], () => yours(model, prompt, count));
                long computed = model.PositionsComputed - before;
                Expect(got is not null, "it returns null.");
                Expect(got!.Length != prompt.Length || count == 0, "it returns just the prompt: no token was generated yet.");
                Expect(got.Length == prompt.Length + count, $"asked for {count} new tokens after a {prompt.Length}-token prompt, it returns {got.Length} ids instead of {prompt.Length + count}.");
                Expect(got.Take(prompt.Length).SequenceEqual(prompt), "the result should start with the prompt itself.");
                int first = Enumerable.Range(0, got.Length).FirstOrDefault(i => got[i] != expected[i], -1);
                Expect(first < 0, $"generated token {first - prompt.Length + 1} of {count} differs from greedy decoding (the most likely token at every step): is the next token the argmax of the LAST position's logits, and is each new token appended before the next call?");
                Expect(computed <= prompt.Length + count, $"the tokens are right, but the model computed {computed} positions for a {prompt.Length}-token prompt and {count} new tokens; with the cache each position is computed once ({prompt.Length + count} at most). Is the whole sequence fed again at every step?");
            }
        });

    /// <summary>
    /// Exercise 3: the attention mask for a chunk of new queries that follows cached keys (Lesson 28, section 3): (new,
    /// past + new) booleans, true where query i, at position past + i, may see key j. The library's own
    /// CausalSelfAttention.ChunkMask is not allowed.
    /// </summary>
    public static Verdict ChunkMask(Func<long, long, Tensor> yours) => Check("your ChunkMask",
        "draw the mask for 2 cached positions and 3 new ones: which column is each new query's own position, and which columns are its future?",
        () => Forbidding(["CausalSelfAttention.ChunkMask"], () =>
        {
            foreach (var (t, past) in new (long, long)[] { (3, 2), (1, 5), (4, 0), (2, 7) })
            {
                string set = $"(new {t}, past {past})";
                var m = yours(t, past);
                Expect(m is not null, $"{set}: it returns null.");
                Expect(!(m!.dim() == 2 && m.shape[0] == t && m.shape[1] == t && past > 0), $"{set}: the mask is {t}×{t}, covering only the new keys; the cached keys are columns too ({t}×{t + past}).");
                ExpectShape(m, [t, past + t], $"the mask {set}");
                Expect(m.dtype == ScalarType.Bool, $"{set}: it returns {m.dtype}; the mask is boolean (true = may attend).");
                var want = ones(t, past + t, dtype: ScalarType.Bool).tril(past);
                if (m.eq(want).all().item<bool>()) continue;
                Expect(!m.eq(want.logical_not()).all().item<bool>(),
                    $"{set}: your mask is exactly inverted: true marks the keys a query must NOT see (the convention of some libraries' attention masks). Here true means may attend.");
                Expect(!(m.all().item<bool>() && t > 1), $"{set}: every query sees every key, including the new tokens after it: the future is not masked.");
                Expect(!(past > 0 && m.eq(ones(t, past + t, dtype: ScalarType.Bool).tril()).all().item<bool>()),
                    $"{set}: the first new query sees only the first key; it sits at position {past}, after the {past} cached ones, and may see all of them.");
                Expect(!m.logical_and(want.logical_not()).any().item<bool>(), $"{set}: some queries can see keys in their future.");
                Expect(false, $"{set}: some queries cannot see keys they are allowed to see (the cached ones and their own position).");
            }
            return 0;
        }));
}
