using TransformerCourse.Exercises;
using TransformerCourse.MoE;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 24's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson24ExerciseTests : TorchTest
{
    static Tensor Loss(Tensor probs, Tensor f, bool timesN = true) => (f * probs.mean(new long[] { 0 })).sum() * (timesN ? probs.shape[1] : 1);

    static Tensor Fraction(Tensor probs) =>
        nn.functional.one_hot(probs.argmax(1), probs.shape[1]).to_type(ScalarType.Float32).mean(new long[] { 0 });

    // ----- Exercise 1: the balancing loss
    [Fact]
    public void Balance_reference_passes() => Assert.True(Lesson24.BalanceLoss(logits =>
    {
        var probs = logits.softmax(1);
        return Loss(probs, Fraction(probs));
    }).Passed);

    [Fact]
    public void Balance_placeholder_fails()
    {
        var verdict = Lesson24.BalanceLoss(logits => zeros([]));
        Assert.False(verdict.Passed);
        Assert.Contains("returns 0", verdict.Feedback);
    }

    [Fact]
    public void Balance_without_the_factor_n_is_named()
    {
        var verdict = Lesson24.BalanceLoss(logits => { var p = logits.softmax(1); return Loss(p, Fraction(p), timesN: false); });
        Assert.False(verdict.Passed);
        Assert.Contains("factor N", verdict.Feedback);
    }

    [Fact]
    public void Balance_with_the_softmax_over_tokens_is_named()
    {
        var verdict = Lesson24.BalanceLoss(logits => { var p = logits.softmax(0); return Loss(p, Fraction(p)); });
        Assert.False(verdict.Passed);
        Assert.Contains("softmax over the tokens", verdict.Feedback);
    }

    [Fact]
    public void Balance_with_p_in_place_of_f_is_named()
    {
        var verdict = Lesson24.BalanceLoss(logits => { var p = logits.softmax(1); return Loss(p, p.mean(new long[] { 0 })); });
        Assert.False(verdict.Passed);
        Assert.Contains("mean probability is used where the share of tokens dispatched", verdict.Feedback);
    }

    [Fact]
    public void Balance_with_f_in_place_of_p_is_named()
    {
        var verdict = Lesson24.BalanceLoss(logits => { var p = logits.softmax(1); var f = Fraction(p); return (f * f).sum() * p.shape[1]; });
        Assert.False(verdict.Passed);
        Assert.Contains("dispatch share is used where the mean router probability", verdict.Feedback);
    }

    [Fact]
    public void Balance_without_a_gradient_is_named()
    {
        var verdict = Lesson24.BalanceLoss(logits => { var p = logits.detach().softmax(1); return Loss(p, Fraction(p)); });
        Assert.False(verdict.Passed);
        Assert.Contains("no gradient", verdict.Feedback);
    }

    [Fact]
    public void Balance_with_a_differentiable_f_is_named()
    {
        // f from the probabilities themselves, rounded with a straight-through trick: right value, wrong gradient.
        var verdict = Lesson24.BalanceLoss(logits =>
        {
            var p = logits.softmax(1);
            var hard = nn.functional.one_hot(p.argmax(1), p.shape[1]).to_type(ScalarType.Float32);
            var f = (hard + p - p.detach()).mean(new long[] { 0 });
            return Loss(p, f);
        });
        Assert.False(verdict.Passed);
        Assert.Contains("f is a count", verdict.Feedback);
    }

    [Fact]
    public void Balance_calling_the_library_is_refused()
    {
        var verdict = Lesson24.BalanceLoss(logits => { var p = logits.softmax(1); return MoeRouting.LoadBalancingLoss(p, p.argmax(1)); });
        Assert.False(verdict.Passed);
        Assert.Contains("MoeRouting.LoadBalancingLoss", verdict.Feedback);
    }

    // ----- Exercise 2: top-k gating
    static (Tensor, Tensor) Gating(Tensor logits, int k, bool renormalise, bool renormaliseOne = false, int dim = 1)
    {
        var probs = logits.softmax(dim);
        var (values, experts) = probs.topk(k, dim: 1);
        var gates = (k > 1 && renormalise) || (k == 1 && renormaliseOne) ? values / values.sum(1, keepdim: true) : values;
        return (experts, gates);
    }

    [Fact]
    public void Gating_reference_passes() => Assert.True(Lesson24.TopKGating((l, k) => Gating(l, k, renormalise: true)).Passed);

    [Fact]
    public void Gating_placeholder_fails()
    {
        var verdict = Lesson24.TopKGating((l, k) => (zeros([l.shape[0], k], ScalarType.Int64), zeros([l.shape[0], k])));
        Assert.False(verdict.Passed);
        Assert.Contains("not each token's", verdict.Feedback);
    }

    [Fact]
    public void Gating_without_renormalising_top2_is_named()
    {
        var verdict = Lesson24.TopKGating((l, k) => Gating(l, k, renormalise: false));
        Assert.False(verdict.Passed);
        Assert.Contains("renormalised", verdict.Feedback);
        Assert.Contains("not 1", verdict.Feedback);
    }

    [Fact]
    public void Gating_that_renormalises_a_single_gate_is_named()
    {
        var verdict = Lesson24.TopKGating((l, k) => Gating(l, k, renormalise: true, renormaliseOne: true));
        Assert.False(verdict.Passed);
        Assert.Contains("every gate is 1", verdict.Feedback);
    }

    [Fact]
    public void Gating_with_the_softmax_over_tokens_is_named()
    {
        var verdict = Lesson24.TopKGating((l, k) => Gating(l, k, renormalise: true, dim: 0));
        Assert.False(verdict.Passed);
        Assert.Contains("softmax over the tokens", verdict.Feedback);
    }

    [Fact]
    public void Gating_in_ascending_order_is_named()
    {
        var verdict = Lesson24.TopKGating((l, k) =>
        {
            var (e, g) = Gating(l, k, renormalise: true);
            return (e.flip(1), g.flip(1));
        });
        Assert.False(verdict.Passed);
        Assert.Contains("most probable first", verdict.Feedback);
    }

    [Fact]
    public void Gating_with_detached_gates_is_named()
    {
        var verdict = Lesson24.TopKGating((l, k) => { var (e, g) = Gating(l, k, renormalise: true); return (e, g.detach()); });
        Assert.False(verdict.Passed);
        Assert.Contains("carry no gradient", verdict.Feedback);
    }

    [Fact]
    public void Gating_fallback_points_to_the_section_without_restating_the_rule()
    {
        var verdict = Lesson24.TopKGating((l, k) => { var (e, g) = Gating(l, k, renormalise: true); return (e, g * g); });
        Assert.False(verdict.Passed);
        Assert.Contains("the gates are not right", verdict.Feedback);
        Assert.Contains("\"Top-k gating\"", verdict.Feedback);
        Assert.DoesNotContain("divided by their sum", verdict.Feedback);
    }

    // ----- Exercise 3: capacity
    static bool[] Keep(int[] choice, int experts, double factor, Func<double, int> round, bool fromEnd = false, int extra = 0)
    {
        int capacity = round(factor * choice.Length / experts) + extra;
        var keep = new bool[choice.Length];
        var used = new int[experts];
        var order = Enumerable.Range(0, choice.Length);
        foreach (int i in fromEnd ? order.Reverse() : order) keep[i] = used[choice[i]]++ < capacity;
        return keep;
    }

    static int Ceil(double x) => (int)Math.Ceiling(x - 1e-9);

    [Fact]
    public void Capacity_reference_passes() => Assert.True(Lesson24.KeepWithinCapacity((c, n, f) => Keep(c, n, f, Ceil)).Passed);

    [Fact]
    public void Capacity_placeholder_fails()
    {
        var verdict = Lesson24.KeepWithinCapacity((c, n, f) => c.Select(_ => true).ToArray());
        Assert.False(verdict.Passed);
        Assert.Contains("keeps every token", verdict.Feedback);
        Assert.Contains("at most 2", verdict.Feedback);
        // The feedback must not hand over the capacity formula or the expected keep/drop pattern.
        Assert.DoesNotContain("⌈", verdict.Feedback);
        Assert.DoesNotContain("/ 4", verdict.Feedback);
        Assert.DoesNotContain("drop, keep", verdict.Feedback);
    }

    [Fact]
    public void Capacity_feedback_never_spells_out_the_formula()
    {
        foreach (Func<double, int> round in new Func<double, int>[] { x => (int)Math.Floor(x + 1e-9), x => (int)Math.Round(x), x => Ceil(x) + 1 })
        {
            var verdict = Lesson24.KeepWithinCapacity((c, n, f) => Keep(c, n, f, round));
            Assert.False(verdict.Passed);
            Assert.DoesNotContain("⌈", verdict.Feedback);
        }
    }

    [Fact]
    public void Capacity_rounded_down_is_named()
    {
        var verdict = Lesson24.KeepWithinCapacity((c, n, f) => Keep(c, n, f, x => (int)Math.Floor(x + 1e-9)));
        Assert.False(verdict.Passed);
        Assert.Contains("rounds", verdict.Feedback);
        Assert.Contains("always rounded up", verdict.Feedback);
    }

    [Fact]
    public void Capacity_rounded_to_nearest_is_named()
    {
        var verdict = Lesson24.KeepWithinCapacity((c, n, f) => Keep(c, n, f, x => (int)Math.Round(x)));
        Assert.False(verdict.Passed);
        Assert.Contains("always rounded up", verdict.Feedback);
    }

    [Fact]
    public void Keeping_the_last_tokens_is_named()
    {
        var verdict = Lesson24.KeepWithinCapacity((c, n, f) => Keep(c, n, f, Ceil, fromEnd: true));
        Assert.False(verdict.Passed);
        Assert.Contains("last tokens", verdict.Feedback);
    }

    [Fact]
    public void Keeping_one_too_many_is_named()
    {
        var verdict = Lesson24.KeepWithinCapacity((c, n, f) => Keep(c, n, f, Ceil, extra: 1));
        Assert.False(verdict.Passed);
        Assert.Contains("one token too many", verdict.Feedback);
    }

    [Fact]
    public void Capacity_without_the_factor_is_named()
    {
        var verdict = Lesson24.KeepWithinCapacity((c, n, f) => Keep(c, n, 1.0, Ceil));
        Assert.False(verdict.Passed);
        Assert.Contains("capacity factor is missing", verdict.Feedback);
    }
}
