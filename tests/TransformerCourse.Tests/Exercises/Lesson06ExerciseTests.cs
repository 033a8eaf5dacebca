using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 6's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson06ExerciseTests : TorchTest
{
    static void AssertPass(Verdict verdict) => Assert.True(verdict.Passed, verdict.Feedback);

    static void AssertNotYet(Verdict verdict, string diagnosis)
    {
        Assert.False(verdict.Passed);
        Assert.True(verdict.Feedback.Contains(diagnosis), $"expected '{diagnosis}' in: {verdict.Feedback}");
    }

    // ---- Exercise 1: one head's weights from nn.MultiheadAttention's packed projections ----

    static Tensor HeadWeights(Tensor weight, Tensor bias, Tensor x, int heads, int head, long keyOffset = -1, bool fullScale = false, bool queryAxis = false)
    {
        long d = weight.shape[1], dk = d / heads;
        Tensor Project(long start) => nn.functional.linear(x, weight[TensorIndex.Slice(start, start + dk)], bias[TensorIndex.Slice(start, start + dk)]);
        var q = Project(head * dk);
        var k = Project((keyOffset < 0 ? d : keyOffset) + head * dk);
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(fullScale ? d : dk);
        return scores.softmax(queryAxis ? -2 : -1);
    }

    [Fact]
    public void Packed_reference_passes() => AssertPass(Lesson06.HeadWeightsFromPacked((w, b, x, h, i) => HeadWeights(w, b, x, h, i)));

    [Fact]
    public void Packed_reference_agrees_with_TorchSharps_head_average()
    {
        manual_seed(3);
        var builtIn = nn.MultiheadAttention(12, 3);
        var p = builtIn.named_parameters().ToDictionary(np => np.name, np => np.parameter);
        var x = randn(2, 5, 12);
        var seqFirst = x.transpose(0, 1);
        var (_, averaged) = builtIn.forward(seqFirst, seqFirst, seqFirst, null, true, null);
        var ours = stack(Enumerable.Range(0, 3).Select(i => Lesson06.PackedHeadWeights(p["in_proj_weight"].detach(), p["in_proj_bias"].detach(), x, 3, i)), 1).mean([1]);
        Assert.True(Exercise.Same(ours, averaged!, 1e-5));
    }

    [Fact]
    public void Packed_placeholder_fails()
    {
        // The notebook's placeholder: a uniform (L, L) matrix per sequence.
        var verdict = Lesson06.HeadWeightsFromPacked((w, b, x, h, i) => ones(x.shape[0], x.shape[1], x.shape[1]) / x.shape[1]);
        AssertNotYet(verdict, "differ from head");
    }

    [Fact]
    public void Keys_from_the_query_block_are_named()
    {
        var verdict = Lesson06.HeadWeightsFromPacked((w, b, x, h, i) => HeadWeights(w, b, x, h, i, keyOffset: 0));
        AssertNotYet(verdict, "same block of in_proj_weight");
    }

    [Fact]
    public void Scaling_by_the_full_width_is_named()
    {
        var verdict = Lesson06.HeadWeightsFromPacked((w, b, x, h, i) => HeadWeights(w, b, x, h, i, fullScale: true));
        AssertNotYet(verdict, "full width");
    }

    [Fact]
    public void Softmax_over_the_queries_is_named()
    {
        var verdict = Lesson06.HeadWeightsFromPacked((w, b, x, h, i) => HeadWeights(w, b, x, h, i, queryAxis: true));
        AssertNotYet(verdict, "over the queries");
    }

    [Fact]
    public void A_hard_coded_head_is_named()
    {
        var verdict = Lesson06.HeadWeightsFromPacked((w, b, x, h, i) => HeadWeights(w, b, x, h, 0));
        AssertNotYet(verdict, "you return the weights of head 0");
    }

    [Fact]
    public void Copying_into_the_library_module_is_refused()
    {
        var verdict = Lesson06.HeadWeightsFromPacked((w, b, x, h, i) =>
        {
            long d = w.shape[1];
            var module = new MultiHeadAttention((int)d, h);
            using (no_grad())
            {
                module.QueryProjection.weight!.copy_(w[..(int)d]); module.QueryProjection.bias!.copy_(b[..(int)d]);
                module.KeyProjection.weight!.copy_(w[(int)d..(int)(2 * d)]); module.KeyProjection.bias!.copy_(b[(int)d..(int)(2 * d)]);
            }
            return module.forward(x, x, x).Weights[.., i];
        });
        AssertNotYet(verdict, "MultiHeadAttention.forward");
    }

    // ---- Exercise 2: cross-attention with a key padding mask, step by step ----

    static Tensor Cross(MultiHeadAttention m, Tensor queries, Tensor memory, Tensor keyMask, bool maskOverQueries = false, bool queryLengthForKeys = false)
    {
        long b = queries.shape[0], lq = queries.shape[1], lk = memory.shape[1], d = queries.shape[2];
        int h = m.Heads, dk = (int)d / h;
        var q = m.QueryProjection.forward(queries).view(b, lq, h, dk).transpose(1, 2);
        var k = m.KeyProjection.forward(memory).view(b, queryLengthForKeys ? lq : lk, h, dk).transpose(1, 2);
        var v = m.ValueProjection.forward(memory).view(b, queryLengthForKeys ? lq : lk, h, dk).transpose(1, 2);
        var mask = maskOverQueries ? keyMask.unsqueeze(1) : keyMask.view(b, 1, 1, lk);
        var context = ScaledDotProductAttention.Compute(q, k, v, mask).Output;
        return m.OutputProjection.forward(context.transpose(1, 2).reshape(b, lq, d));
    }

    [Fact]
    public void Cross_reference_passes() => AssertPass(Lesson06.CrossAttention((m, q, mem, mask) => Cross(m, q, mem, mask)));

    [Fact]
    public void Cross_placeholder_one_wide_head_is_named()
    {
        // The notebook's placeholder: one attention over the full width.
        var verdict = Lesson06.CrossAttention((m, q, mem, mask) => m.OutputProjection.forward(ScaledDotProductAttention.Compute(
            m.QueryProjection.forward(q), m.KeyProjection.forward(mem), m.ValueProjection.forward(mem), mask.unsqueeze(1)).Output));
        AssertNotYet(verdict, "never split into");
    }

    [Fact]
    public void Using_the_query_length_for_the_keys_is_named()
    {
        var verdict = Lesson06.CrossAttention((m, q, mem, mask) => Cross(m, q, mem, mask, queryLengthForKeys: true));
        AssertNotYet(verdict, "L_q ≠ L_k");
    }

    [Fact]
    public void A_mask_without_the_head_axis_is_named()
    {
        // (B, 1, L_k) lines up with (B, h, L_q, L_k) from the right: its batch axis meets the head axis.
        var verdict = Lesson06.CrossAttention((m, q, mem, mask) => Cross(m, q, mem, mask, maskOverQueries: true));
        AssertNotYet(verdict, "B = 2, L_q = 3, L_k = 5");
    }

    [Fact]
    public void Forgetting_the_mask_is_named()
    {
        var verdict = Lesson06.CrossAttention((m, q, mem, mask) => Cross(m, q, mem, ones_like(mask)));
        AssertNotYet(verdict, "changing only the padded keys changes your output");
    }

    [Fact]
    public void Splitting_without_the_transpose_is_named()
    {
        var verdict = Lesson06.CrossAttention((m, q, mem, mask) => Lesson06.Reference(m, q, mem, mask, viewWithoutTranspose: true));
        AssertNotYet(verdict, "mixes different tokens");
    }

    [Fact]
    public void Merging_without_the_transpose_back_is_named()
    {
        var verdict = Lesson06.CrossAttention((m, q, mem, mask) => Lesson06.Reference(m, q, mem, mask, mergeWithoutTranspose: true));
        AssertNotYet(verdict, "merged without moving the head axis back");
    }

    [Fact]
    public void The_library_helpers_are_refused()
    {
        var verdict = Lesson06.CrossAttention((m, q, mem, mask) => m.forward(q, mem, mem, null, mask).Output);
        AssertNotYet(verdict, "MultiHeadAttention.forward");
        var split = Lesson06.CrossAttention((m, q, mem, mask) => m.OutputProjection.forward(MultiHeadAttention.MergeHeads(ScaledDotProductAttention.Compute(
            MultiHeadAttention.SplitHeads(m.QueryProjection.forward(q), m.Heads), MultiHeadAttention.SplitHeads(m.KeyProjection.forward(mem), m.Heads),
            MultiHeadAttention.SplitHeads(m.ValueProjection.forward(mem), m.Heads), mask.view(mask.shape[0], 1, 1, -1)).Output)));
        AssertNotYet(split, "MultiHeadAttention.SplitHeads");
    }

    /// <summary>The shortcut: copy the module into TorchSharp's nn.MultiheadAttention and let it do the work.</summary>
    static Tensor ThroughTorchSharp(MultiHeadAttention m, Tensor q, Tensor mem, Tensor keyMask)
    {
        var builtIn = nn.MultiheadAttention(m.Width, m.Heads);
        m.CopyTo(builtIn);
        var (output, _) = builtIn.forward(q.transpose(0, 1), mem.transpose(0, 1), mem.transpose(0, 1), keyMask.logical_not(), false, null);
        return output.transpose(0, 1);
    }

    // The same shortcut with the weights packed by hand, so no library routine is called.
    static Tensor PackedByHand(MultiHeadAttention m, Tensor q, Tensor mem, Tensor keyMask)
    {
        var builtIn = nn.MultiheadAttention(m.Width, m.Heads);
        var p = builtIn.named_parameters().ToDictionary(np => np.name, np => np.parameter);
        using (no_grad())
        {
            p["in_proj_weight"].copy_(cat([m.QueryProjection.weight!, m.KeyProjection.weight!, m.ValueProjection.weight!], 0));
            p["in_proj_bias"].copy_(cat([m.QueryProjection.bias!, m.KeyProjection.bias!, m.ValueProjection.bias!], 0));
            p["out_proj.weight"].copy_(m.OutputProjection.weight!);
            p["out_proj.bias"].copy_(m.OutputProjection.bias!);
        }
        var (output, _) = builtIn.forward(q.transpose(0, 1), mem.transpose(0, 1), mem.transpose(0, 1), keyMask.logical_not(), false, null);
        return output.transpose(0, 1);
    }

    /// <summary>Both shortcuts compute the right answer outside the check, so only the check's refusal or its
    /// gradient test stops them.</summary>
    [Theory]
    [InlineData(nameof(ThroughTorchSharp), "MultiHeadAttention.CopyTo")]
    [InlineData(nameof(PackedByHand), "no gradient reaches the module's own projections")]
    public void Handing_the_work_to_TorchSharps_module_is_caught(string shortcut, string diagnosis)
    {
        Func<MultiHeadAttention, Tensor, Tensor, Tensor, Tensor> yours = shortcut == nameof(ThroughTorchSharp) ? ThroughTorchSharp : PackedByHand;
        manual_seed(5);
        var m = new MultiHeadAttention(12, 3);
        var (q, mem) = (randn(2, 3, 12), randn(2, 5, 12));
        var keyMask = Masks.Padding([5, 2], 5).squeeze(1);
        using (no_grad())
            Assert.True(Exercise.Same(yours(m, q, mem, keyMask), m.forward(q, mem, mem, null, keyMask).Output, 1e-5));
        AssertNotYet(Lesson06.CrossAttention(yours), diagnosis);
    }
}
