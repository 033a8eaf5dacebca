using TorchSharp;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 1 (The Attention Revolution): the prerequisites self-check, on attention's soft lookup.</summary>
public static class Lesson01
{
    /// <summary>The soft lookup of section 3 for one query: score every key, softmax, blend the values.</summary>
    public static Tensor Lookup(Tensor query, Tensor keys, Tensor values) => keys.matmul(query).softmax(0).matmul(values);

    /// <summary>
    /// Exercise 1 (a tensor op): for a batch of queries (B, L_q, d) and keys (B, L_k, d), the (B, L_q, L_k)
    /// soft-lookup weights — plain dot-product scores, softmax over the keys. Probed on shapes with L_q ≠ L_k.
    /// </summary>
    public static Verdict LookupWeights(Func<Tensor, Tensor, Tensor> yours) => Check("your LookupWeights",
        "revisit section 3: which two steps turn a query and the keys into weights, and along which axis must each query's weights add up to 1? Check which axes of the keys a batched product pairs with the queries.",
        () =>
        {
            using var generator = new Generator(seed: 101);
            foreach (var (b, lq, lk, d) in new (long, long, long, long)[] { (2, 3, 5, 4), (3, 4, 2, 3), (1, 6, 7, 2) })
            {
                var queries = randn([b, lq, d], generator: generator);
                var keys = randn([b, lk, d], generator: generator);
                var scores = queries.matmul(keys.transpose(-2, -1));
                var want = scores.softmax(-1);
                var got = Forbidding(["ScaledDotProductAttention.Compute"], () => yours(queries.clone(), keys.clone()));
                Expect(got is not null, "it returns null.");
                Expect(!got!.shape.SequenceEqual(new[] { b, lk, lq }) || lq == lk,
                    $"for {lq} queries and {lk} keys it returns shape {Guard.Shape(got)}: one row per key. Each row should belong to a query.");
                ExpectShape(got, [b, lq, lk], $"LookupWeights(queries {Guard.Shape(queries)}, keys {Guard.Shape(keys)})");
                Expect(got.abs().max().item<float>() > 0, "all its weights are zero — is it still the placeholder?");
                if (Same(got, want, 1e-5)) continue;
                Expect(!Same(got, scores, 1e-4), "it returns the raw scores: the step that turns scores into weights is missing.");
                Expect(!Same(got, scores.softmax(-2), 1e-5), "its weights add up to 1 down each column (over the queries), not along each row (over the keys).");
                Expect(!Same(got, (scores / Math.Sqrt(d)).softmax(-1), 1e-5), "it divides the scores by √d; the soft lookup of section 3 uses the plain dot products.");
                Expect(got.sum(-1).sub(1).abs().max().item<float>() < 1e-4, "the weights of a query do not add up to 1.");
                Expect(false, $"on queries {Guard.Shape(queries)} and keys {Guard.Shape(keys)} the weights do not match the softmax of the dot-product scores.");
            }
        });

    /// <summary>
    /// Exercise 2 (an autograd gradient): ∂ w_j / ∂ query for the soft lookup weights w = softmax(keys · query),
    /// returned as a (d) tensor. Probed on random queries and keys and several j.
    /// </summary>
    public static Verdict WeightGradient(Func<Tensor, Tensor, long, Tensor> yours) => Check("your WeightGradient",
        "revisit the autograd idiom: which tensor needs requires_grad, which single number do you call backward() on, and where does the gradient appear afterwards?",
        () =>
        {
            using var generator = new Generator(seed: 102);
            foreach (var (l, d, j) in new (long, long, long)[] { (4, 3, 1), (6, 2, 0), (5, 4, 4) })
            {
                var query = randn([d], generator: generator);
                var keys = randn([l, d], generator: generator);
                var weights = keys.matmul(query).softmax(0);
                var want = weights[j] * (keys[j] - weights.matmul(keys));   // closed form of the softmax derivative
                var got = ExpectShape(yours(query.clone(), keys.clone(), j)?.detach(), [d], $"WeightGradient(query [{d}], keys [{l}, {d}], {j})");
                if (Same(got, want, 1e-5)) continue;
                Expect(got.abs().max().item<float>() > 1e-7,
                    "its gradient is all zero. The weight of one key does change with the query (if you back-propagated the sum of all the weights: that sum is always 1, so its gradient is zero).");
                Expect(!Same(got, keys[j], 1e-5), "it returns the gradient of the score q·k_j; the exercise asks for the weight, which comes after the softmax.");
                Expect(!Same(got, weights[j] * keys[j], 1e-5), "it misses how raising the score of key j lowers every other weight (the softmax couples them).");
                Expect(false, $"with {l} keys of width {d}, the gradient of weight {j} is not right.");
            }
        });

    /// <summary>
    /// Exercise 3 (a short training loop): learn a query whose soft lookup over (keys, values) returns
    /// <c>target</c>. Judged by the lookup's error with the returned query on problems the learner has not seen.
    /// </summary>
    public static Verdict LearnQuery(Func<Tensor, Tensor, Tensor, Tensor> yours) => Check("your LearnQuery",
        "revisit the training-loop idiom: measure how far the lookup is from the target, clear the old gradients, back-propagate, and let the optimizer take its step — in every iteration.",
        () =>
        {
            using var generator = new Generator(seed: 103);
            foreach (var (l, d) in new (long, long)[] { (5, 3), (4, 6) })
            {
                var keys = randn([l, d], generator: generator);
                var values = randn([l, 2], generator: generator);
                var hidden = 1.5 * randn([d], generator: generator);
                var target = Lookup(hidden, keys, values);
                double start = Lookup(zeros(d), keys, values).sub(target).pow(2).mean().item<float>();
                var learned = ExpectShape(yours(keys.clone(), values.clone(), target.clone())?.detach(), [d], $"LearnQuery(keys [{l}, {d}], ...)");
                Expect(learned.abs().max().item<float>() > 0, "the query it returns is still all zeros: the loop never changed it (is there a backward() and a step() in every iteration?).");
                double end = Lookup(learned, keys, values).sub(target).pow(2).mean().item<float>();
                Expect(double.IsFinite(end), "the learned query makes the lookup NaN or infinite: the updates blew up.");
                Expect(end < start, $"the lookup is further from the target after training (error {end:G3}) than before ({start:G3}): the steps go the wrong way, or the loss is not one that is smallest at the target.");
                Expect(end < 0.01 * start, $"training helped (error {start:G3} → {end:G3}) but stopped far from the target: is the loss the squared error, and are old gradients cleared before each backward()?");
            }
        });
}
