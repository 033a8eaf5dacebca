using TorchSharp;
using TransformerCourse.Analysis;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 18 (The KV Cache).</summary>
public static class Lesson18
{
    /// <summary>A model's shape and a workload, for the cache-size exercise.</summary>
    public sealed record CacheCase(string Name, int Layers, int Width, int Heads, int KvHeads, int Tokens, int Batch, int BytesPerElement);

    /// <summary>
    /// The cases probed, chosen so that each plausible mistake changes the answer by a different factor: the first has
    /// layers 7, kv-sharing 3, 4 bytes per element, batch 5 and 6 heads; the last is past the range of an int.
    /// </summary>
    public static IReadOnlyList<CacheCase> CacheCases { get; } =
    [
        new("a made-up model (7 layers, width 96, 6 heads, 2 kv heads, 100 tokens, batch 5, float32)", 7, 96, 6, 2, 100, 5, 4),
        new("GPT-2 small (12 layers, width 768, 12 heads, 1,024 tokens, float16)", 12, 768, 12, 12, 1024, 1, 2),
        new("Mistral 7B (32 layers, width 4,096, 32 heads, 8 kv heads, 4,096 tokens, float16)", 32, 4096, 32, 8, 4096, 1, 2),
        new("LLaMA-2 70B (80 layers, width 8,192, 64 heads, 8 kv heads, 4,096 tokens, batch 8, float16)", 80, 8192, 64, 8, 4096, 8, 2),
    ];

    /// <summary>
    /// Exercise 1: the bytes a KV cache holds for a model and a workload. Wrong factors are named: K and V, bytes vs
    /// elements, query heads vs kv heads, the batch, the layers, width vs head width, and int overflow.
    /// KvCacheCost.Bytes is not allowed.
    /// </summary>
    public static Verdict CacheBytes(Func<int, int, int, int, int, int, int, long> yours) => Check("your CacheBytes",
        "reread \"How big is the cache?\": list what the cache stores for each token (which tensors, in how many layers, for how many heads, each of what length), then how many sequences and how many bytes per number.",
        () =>
        {
            foreach (var c in CacheCases)
            {
                long expected = KvCacheCost.Bytes(c.Layers, c.KvHeads, c.Width / c.Heads, c.Tokens, c.BytesPerElement, c.Batch);
                long got = Forbidding(["KvCacheCost.Bytes"], () => yours(c.Layers, c.Width, c.Heads, c.KvHeads, c.Tokens, c.Batch, c.BytesPerElement));
                if (got == expected) continue;
                string at = $"for {c.Name} you return {got:N0} bytes;";
                Expect(got != 0, $"{at} it still returns the placeholder 0.");
                Expect(!(expected > int.MaxValue && (got < 0 || got == (long)unchecked((int)expected) || got == (long)unchecked((uint)expected))),
                    $"{at} the product was computed in int and wrapped around past {int.MaxValue:N0}. Multiply in long from the first factor.");
                bool Is(double factor) => factor != 1 && Math.Abs(got * factor - expected) < 0.5;
                Expect(!Is(2), $"{at} exactly half the right size: the cache keeps both the keys and the values.");
                Expect(!Is(c.BytesPerElement), $"{at} that is the number of elements; the question asks for bytes ({c.BytesPerElement} per element here).");
                Expect(!Is((double)c.KvHeads / c.Heads), $"{at} {c.Heads / c.KvHeads}× too large: only the {c.KvHeads} key/value heads are cached, not the {c.Heads} query heads.");
                Expect(!Is(c.Batch), $"{at} that is one sequence; the batch holds {c.Batch}, each with its own cache.");
                Expect(!Is(c.Layers), $"{at} that is one layer; every one of the {c.Layers} layers keeps its own keys and values.");
                Expect(!Is(1.0 / c.Heads), $"{at} {c.Heads}× too large: each head stores vectors of the head width (width / heads), not of the full width.");
                Expect(false, $"{at} the right answer is {(double)expected / got:G3} times that.");
            }
        });

    /// <summary>
    /// Exercise 2: expand keys or values (B, kvHeads, T, d) to (B, queryHeads, T, d) so that query head h reads kv head
    /// h / (queryHeads / kvHeads). Probed on random tensors (grouped, multi-query, and nothing to repeat). The tiled order
    /// of <c>repeat</c> and repeating along time are named. GroupedQueryAttention.RepeatKv is not allowed.
    /// </summary>
    public static Verdict RepeatKv(Func<Tensor, int, Tensor> yours) => Check("your RepeatKv",
        "reread \"Sharing keys and values\": which key/value head does query head 1 read when 6 query heads share 2 key/value heads, and which dimension of the tensor counts heads?",
        () =>
        {
            using var generator = new Generator(18);
            foreach (var (shape, heads) in new (long[] Shape, int Heads)[] { ([2, 2, 3, 4], 6), ([1, 1, 5, 2], 4), ([1, 3, 2, 2], 3) })
            {
                var kv = randn(shape, generator: generator);
                long kvHeads = shape[1], groups = heads / kvHeads;
                string set = $"(kv {Guard.Shape(kv)}, {heads} query heads)";
                var got = Forbidding(["GroupedQueryAttention.RepeatKv"], () => yours(kv.clone(), heads));
                Expect(got is not null, $"{set}: it returns null.");
                long[] want = [shape[0], heads, shape[2], shape[3]];
                Expect(!(got!.shape.SequenceEqual(shape) && groups > 1), $"{set}: the result still has {kvHeads} heads: nothing was repeated yet.");
                Expect(!(groups > 1 && got.dim() == 4 && got.shape[1] == kvHeads && got.shape[2] == shape[2] * groups),
                    $"{set}: the result has shape {Guard.Shape(got)}: the copies went along the time axis (dim 2), not the heads axis (dim 1).");
                ExpectShape(got, want, $"the result {set}");
                var reference = kv.repeat_interleave(groups, dim: 1);
                if (Same(got, reference, 0)) continue;
                Expect(!Same(got, kv.repeat(1, groups, 1, 1), 0),
                    $"{set}: the heads come out tiled (kv head 0, 1, …, 0, 1, …), so query head 1 reads kv head 1. In grouped-query attention consecutive query heads form a group: heads 0 to {groups - 1} all read kv head 0.");
                for (int h = 0; h < heads; h++)
                    Expect(Same(got[.., h], kv[.., (int)(h / groups)], 0), $"{set}: query head {h} does not get kv head {h / groups} (its group's).");
            }
        });

    /// <summary>
    /// Exercise 1: one cached attention step. Given the keys and values cached so far (B, H, t, d) and the new token's
    /// q, k, v (B, H, 1, d), return the keys and values with the new ones appended and the new token's attention output.
    /// Run step by step from an empty cache, the outputs must equal full causal attention at every position. Named
    /// mistakes: not appending, attending before appending (or a mask that hides the newest key), a causal mask built for
    /// a query at position 0 (only the first key seen), appending along the wrong axis, no 1/√d, softmax over queries.
    /// </summary>
    public static Verdict CachedStep(Func<Tensor, Tensor, Tensor, Tensor, Tensor, (Tensor Keys, Tensor Values, Tensor Output)> yours) => Check("your CachedStep",
        "reread \"Why generation repeats work\": which rows do K and V hold after step t, and which of them may the newest query see?",
        () =>
        {
            using var generator = new Generator(1818);
            foreach (var (batch, heads, steps, d) in new[] { (1, 2, 6, 4), (2, 3, 5, 8) })
            {
                var q = randn([batch, heads, steps, d], generator: generator);
                var k = randn([batch, heads, steps, d], generator: generator);
                var v = randn([batch, heads, steps, d], generator: generator);
                var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(d);
                var future = ones(steps, steps, dtype: ScalarType.Bool).triu(1);
                var full = scores.masked_fill(future, double.NegativeInfinity).softmax(-1).matmul(v);
                var earlierOnly = scores.masked_fill(ones(steps, steps, dtype: ScalarType.Bool).triu(0), double.NegativeInfinity).softmax(-1).matmul(v);   // row 0 is NaN (no key); unused
                var unscaled = (scores * Math.Sqrt(d)).masked_fill(future, double.NegativeInfinity).softmax(-1).matmul(v);
                var pastK = zeros(batch, heads, 0, d);
                var pastV = zeros(batch, heads, 0, d);
                string set = $"(batch {batch}, {heads} heads, head width {d})";
                for (int t = 0; t < steps; t++)
                {
                    var (qt, kt, vt) = (q[.., .., t..(t + 1)], k[.., .., t..(t + 1)], v[.., .., t..(t + 1)]);
                    var (keys, values, output) = yours(pastK.clone(), pastV.clone(), qt.clone(), kt.clone(), vt.clone());
                    string at = $"{set} at step {t} (position {t}, {t} keys cached before it)";
                    output = ExpectShape(output, [batch, heads, 1, d], $"{at} your output");
                    bool zero = output.abs().max().item<float>() == 0, broken = zero || output.isnan().any().item<bool>();
                    if (keys is not null && keys.dim() == 4 && keys.shape[2] == t)
                    {
                        Expect(!zero, $"{at}: it still returns the placeholder (the cache unchanged, an output of zeros).");
                        Expect(false, $"{at}: the keys you return still hold only the {t} cached positions. Append the new k and v: the next step needs them.");
                    }
                    keys = ExpectShape(keys, [batch, heads, t + 1, d], $"{at} the keys you return");
                    values = ExpectShape(values, [batch, heads, t + 1, d], $"{at} the values you return");
                    Expect(!(t > 0 && Same(keys[.., .., 1..], pastK)), $"{at}: the new key went in front of the cached ones; the cache keeps positions in order, oldest first.");
                    Expect(Same(keys, k[.., .., ..(t + 1)]) && Same(values, v[.., .., ..(t + 1)]),
                        $"{at}: the keys and values you return are not the cached ones followed by the new k and v, in order along the time axis (dim 2).");
                    var want = full[.., .., t..(t + 1)];
                    bool onlyFirst = Same(output, v[.., .., 0..1], 1e-5);
                    if (Same(output, want, 1e-5) || (t == 1 && onlyFirst))   // at step 1 "only the first key" and "all but its own" coincide: decide at step 2
                    {
                        pastK = keys.detach().clone(); pastV = values.detach().clone();
                        continue;
                    }
                    Expect(!(t > 0 && onlyFirst),
                        $"{at}: your query attended only to the first key. A causal mask built as if the query were at position 0 hides everything else; the new query sits at position {t}, after every cached key, so it may see all of them.");
                    Expect(!(t == 0 ? broken : Same(output, earlierOnly[.., .., t..(t + 1)], 1e-5)),
                        $"{at}: your query saw the cached keys but not its own{(t == 0 ? " (at the first step that leaves nothing to attend to)" : "")}. Attend after appending: in a causal decoder a position attends to itself too, so the newest query needs no mask at all.");
                    Expect(!Same(output, unscaled[.., .., t..(t + 1)], 1e-5), $"{at}: the scores were not divided by √d (d = {d}), as in full attention.");
                    Expect(!Same(output, vt, 1e-5), $"{at}: your output is just the new value: the query attended only to the new key, not to the cached ones.");
                    Expect(!Same(output, values.sum(2, keepdim: true), 1e-4),
                        $"{at}: your output is the sum of all values: every weight is 1, so the softmax ran over the single query (dim 2) instead of over the keys (the last axis).");
                    Expect(false, $"{at}: your output differs from full causal attention at this position by up to {(output - want).abs().max().item<float>():G3}.");
                }
            }
        });
}
