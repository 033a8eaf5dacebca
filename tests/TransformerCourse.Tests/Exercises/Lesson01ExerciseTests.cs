using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 1's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson01ExerciseTests : TorchTest
{
    static void NotYet(Verdict verdict, string diagnosis)
    {
        Assert.False(verdict.Passed, verdict.Feedback);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    // Exercise 1 — batched soft-lookup weights.
    [Fact]
    public void Lookup_weights_reference_passes() =>
        Assert.True(Lesson01.LookupWeights((q, k) => q.matmul(k.transpose(-2, -1)).softmax(-1)).Passed);

    [Fact]
    public void Lookup_weights_placeholder_fails() =>
        NotYet(Lesson01.LookupWeights((q, k) => zeros(q.shape[0], q.shape[1], k.shape[1])), "placeholder");

    [Fact]
    public void Lookup_weights_softmax_over_the_queries_is_named() =>
        NotYet(Lesson01.LookupWeights((q, k) => q.matmul(k.transpose(-2, -1)).softmax(-2)), "over the queries");

    [Fact]
    public void Lookup_weights_without_softmax_is_named() =>
        NotYet(Lesson01.LookupWeights((q, k) => q.matmul(k.transpose(-2, -1))), "raw scores");

    [Fact]
    public void Lookup_weights_keys_times_queries_is_named() =>
        NotYet(Lesson01.LookupWeights((q, k) => k.matmul(q.transpose(-2, -1)).softmax(-1)), "one row per key");

    [Fact]
    public void Lookup_weights_calling_the_library_is_refused() =>
        NotYet(Lesson01.LookupWeights((q, k) => ScaledDotProductAttention.Compute(q, k, k, scale: 1.0).Weights), "calls ScaledDotProductAttention.Compute");

    // Exercise 2 — ∂ weight_j / ∂ query by autograd.
    static Tensor GradientOf(Tensor query, Tensor keys, long j, Func<Tensor, Tensor> objective)
    {
        var q = query.clone().requires_grad_(true);
        objective(keys.matmul(q).softmax(0)).backward();
        return q.grad!;
    }

    [Fact]
    public void Weight_gradient_reference_passes() =>
        Assert.True(Lesson01.WeightGradient((q, k, j) => GradientOf(q, k, j, w => w[j])).Passed);

    [Fact]
    public void Weight_gradient_placeholder_fails() =>
        NotYet(Lesson01.WeightGradient((q, k, j) => zeros_like(q)), "all zero");

    [Fact]
    public void Gradient_of_the_sum_of_weights_is_named() =>
        NotYet(Lesson01.WeightGradient((q, k, j) => GradientOf(q, k, j, w => w.sum())), "always 1");

    [Fact]
    public void Gradient_of_the_score_is_named() =>
        NotYet(Lesson01.WeightGradient((q, k, j) => { var x = q.clone().requires_grad_(true); k.matmul(x)[j].backward(); return x.grad!; }), "gradient of the score");

    [Fact]
    public void Hard_coded_gradient_fails() =>
        NotYet(Lesson01.WeightGradient((q, k, j) => tensor(new float[] { 0.1f, -0.2f, 0.05f })), "gradient of weight 1 is not right");

    // Exercise 3 — the training loop.
    static Func<Tensor, Tensor, Tensor, Tensor> Loop(Action<Tensor, optim.Optimizer, Tensor, Tensor, Tensor> body) => (keys, values, target) =>
    {
        var query = nn.Parameter(zeros(keys.shape[1]));
        var optimizer = optim.Adam([query], 0.05);
        for (int step = 0; step < 300; step++) body(query, optimizer, keys, values, target);
        return query.detach();
    };

    static Tensor Loss(Tensor query, Tensor keys, Tensor values, Tensor target) => (Lesson01.Lookup(query, keys, values) - target).pow(2).mean();

    [Fact]
    public void Learn_query_reference_passes() =>
        Assert.True(Lesson01.LearnQuery(Loop((q, opt, k, v, t) => { var loss = Loss(q, k, v, t); opt.zero_grad(); loss.backward(); opt.step(); })).Passed);

    [Fact]
    public void Learn_query_placeholder_fails() =>
        NotYet(Lesson01.LearnQuery(Loop((q, opt, k, v, t) => { })), "still all zeros");

    [Fact]
    public void Learn_query_without_backward_fails() =>
        NotYet(Lesson01.LearnQuery(Loop((q, opt, k, v, t) => { var loss = Loss(q, k, v, t); opt.zero_grad(); opt.step(); })), "still all zeros");

    [Fact]
    public void Learn_query_with_an_unsquared_error_fails() =>
        NotYet(Lesson01.LearnQuery(Loop((q, opt, k, v, t) => { var loss = (Lesson01.Lookup(q, k, v) - t).mean(); opt.zero_grad(); loss.backward(); opt.step(); })), "stopped far from the target");

    [Fact]
    public void Learn_query_without_zero_grad_fails() =>
        NotYet(Lesson01.LearnQuery(Loop((q, opt, k, v, t) => { var loss = Loss(q, k, v, t); loss.backward(); opt.step(); })), "old gradients");

    [Fact]
    public void Learn_query_hard_coded_fails() =>
        NotYet(Lesson01.LearnQuery((k, v, t) => tensor(new float[] { 1.0f, 0.2f })), "shape");
}
