using TorchSharp;
using TransformerCourse.Attention;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 4 (Masking).</summary>
public static class Lesson04
{
    static readonly (long N, long Window)[] WindowCases = [(6, 3), (5, 1), (4, 4), (7, 2), (3, 5)];

    /// <summary>Exercise 1: a boolean (n, n) mask where query i sees key j exactly when j ≤ i and i − j &lt; window.</summary>
    public static Verdict SlidingWindowMask(Func<long, long, Tensor> yours) => Check("your SlidingWindowMask",
        "go back to the section on causal masks, then picture each row of the mask as a band that ends on the diagonal and is `window` keys wide.",
        () =>
        {
            foreach (var (n, window) in WindowCases)
            {
                var mask = ExpectShape(yours(n, window), [n, n], $"SlidingWindowMask({n}, {window})");
                Expect(mask.dtype == ScalarType.Bool, $"it returns {mask.dtype} values; a mask in this lesson is boolean (true = may attend).");
                var want = Masks.Combine(Masks.Causal(n), ones(n, n, dtype: ScalarType.Bool).triu(-(window - 1)));
                if (mask.eq(want).all().item<bool>()) continue;
                Expect(!mask.triu(1).any().item<bool>(), $"with n = {n}, window = {window}, some queries can see keys in their future.");
                // Judge the width by the last query, which has the most history.
                long seen = mask[n - 1].sum().item<long>();
                Expect(!(seen == n && window < n), $"with n = {n}, window = {window}, the last query still sees all {n} keys: keys `window` or more steps back are not hidden yet.");
                Expect(seen != window + 1, $"with n = {n}, window = {window}, the last query sees {seen} keys: the window is one key too wide (an off-by-one).");
                Expect(seen != window - 1, $"with n = {n}, window = {window}, the last query sees {seen} keys: the window is one key too narrow (an off-by-one).");
                Expect(false, $"with n = {n}, window = {window}, the mask does not allow exactly the last `window` keys up to and including each query's own position.");
            }
        });

    /// <summary>
    /// Exercise 2: a masked softmax over the last axis with zero weights (and a finite gradient) in rows that
    /// have no visible key. The check back-propagates, because zeroing NaN rows after the softmax leaves the
    /// gradient NaN.
    /// </summary>
    public static Verdict SafeSoftmax(Func<Tensor, Tensor, Tensor> yours) => Check("your SafeSoftmax",
        "revisit the section on the fully masked row: what must a row with no visible key look like before the softmax, and what after it?",
        () =>
        {
            using var generator = new Generator(seed: 4);
            var scores = randn([2, 4, 5], generator: generator);
            // Sequence 0 has three real keys; sequence 1 none (a batch row made only of padding).
            var mask = Masks.Padding([3, 0], 5).expand(2, 4, 5);
            var visible = mask.any(-1, keepdim: true);
            var expected = scores.masked_fill(mask.logical_not(), double.NegativeInfinity).where(visible, 0.0).softmax(-1).where(visible, 0.0);

            var input = scores.clone().requires_grad_();
            var weights = ExpectShape(yours(input, mask), [2, 4, 5], "SafeSoftmax(scores, mask)");
            long nan = weights.isnan().sum().item<long>();
            Expect(nan == 0, $"{nan} of its weights are NaN: a row with no visible key still reaches the softmax as all −∞.");
            Expect(weights[1].abs().max().item<float>() == 0, "a row with no visible key should be all zeros, but it has non-zero weights.");
            Expect(weights.masked_select(mask.logical_not()).abs().max().item<float>() == 0, "some hidden keys still get weight: the mask is not applied before the softmax.");
            Expect(Same(weights, expected, 1e-6), "the rows that do have visible keys are not the softmax over just those keys.");
            weights.pow(2).sum().backward();
            long bad = input.grad!.isfinite().logical_not().sum().item<long>();
            Expect(bad == 0, $"the weights are right, but {bad} entries of the gradient are NaN or infinite: zeroing a NaN row after the softmax does not repair the backward pass.");
        });
}
