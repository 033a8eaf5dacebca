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
}
