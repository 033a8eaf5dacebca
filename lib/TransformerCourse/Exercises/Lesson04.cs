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
    /// Exercise 2: a masked softmax over the last axis that takes an <b>additive</b> mask (0 = visible, −∞ = hidden)
    /// and returns zero weights (and a finite gradient) in rows that have no visible key. The probe is the lesson's
    /// left-padded batch with a causal mask, shaped (batch, 1, L, L) against scores (batch, heads, L, L), so empty rows
    /// sit inside sequences that also have real rows and the mask has to broadcast. The check back-propagates: with an
    /// additive mask, zeroing the empty rows only after the softmax leaves their gradient NaN.
    /// </summary>
    public static Verdict SafeSoftmax(Func<Tensor, Tensor, Tensor> yours) => Check("your SafeSoftmax",
        "revisit 'The fix: an empty row gets zero weights': first find the rows whose keys are all hidden, looking along the key axis of each row; then ask what such a row must look like before the softmax, and what after it.",
        () =>
        {
            const long batch = 2, heads = 3, length = 5;
            using var generator = new Generator(seed: 4);
            var scores = randn([batch, heads, length, length], generator: generator);
            // Left padding: sequence 0 starts with two pads, sequence 1 with one. With the causal mask the leading
            // pad queries of each sequence see no key at all, while the later queries of the same sequence do.
            var real = tensor(new[] { false, false, true, true, true, false, true, true, true, true }).reshape(batch, 1, length);
            var visible = Masks.Combine(real, Masks.Causal(length)).unsqueeze(1);          // (batch, 1, L, L)
            var additive = Masks.ToAdditive(visible);
            var rowHasKey = visible.any(-1, keepdim: true);                                 // (batch, 1, L, 1)
            var expected = scores.masked_fill(visible.logical_not(), double.NegativeInfinity).where(rowHasKey, 0.0).softmax(-1).where(rowHasKey, 0.0);

            var input = scores.clone().requires_grad_();
            var weights = ExpectShape(yours(input, additive.clone()), [batch, heads, length, length], "SafeSoftmax(scores (2, 3, 5, 5), mask (2, 1, 5, 5))");
            long nan = weights.isnan().sum().item<long>();
            Expect(nan == 0, $"{nan} of its weights are NaN: a row with no visible key still reaches the softmax as all −∞.");
            var emptyRows = rowHasKey.logical_not().expand(weights.shape);
            var fullRows = rowHasKey.expand(weights.shape);
            Expect(weights.masked_select(emptyRows).abs().max().item<float>() == 0,
                "a row with no visible key should be all zeros, but it has non-zero weights (a large finite fill such as −1e9 spreads them uniformly over all keys).");
            long zeroedReal = weights.sum(-1, keepdim: true).abs().lt(1e-6).logical_and(rowHasKey).sum().item<long>();
            Expect(zeroedReal == 0,
                $"{zeroedReal} rows that do have visible keys came out all zeros: decide whether a row is empty from all of that row's own keys, not from one key or from the whole sequence.");
            Expect(weights.masked_select(visible.logical_not().expand(weights.shape)).abs().max().item<float>() == 0,
                "some hidden keys still get weight: the mask is not applied before the softmax.");
            Expect(Same(weights.masked_select(fullRows), expected.masked_select(fullRows), 1e-6), "the rows that do have visible keys are not the softmax over just those keys.");
            weights.pow(2).sum().backward();
            long bad = input.grad!.isfinite().logical_not().sum().item<long>();
            Expect(bad == 0, $"the weights are right, but {bad} entries of the gradient are NaN or infinite: an empty row still reaches the softmax as all −∞, and zeroing its weights afterwards does not repair the backward pass.");
        });
}
