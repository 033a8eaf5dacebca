using TorchSharp;
using TransformerCourse.Attention;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class MultiHeadAttentionTests : TorchTest
{
    static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    /// <summary>
    /// TorchSharp's module is sequence-first (L, B, d), returns head-averaged weights, takes key_padding_mask with
    /// true = ignore, and adds attn_mask to the scores (a boolean one would be added as 0/1), so it gets the additive form.
    /// </summary>
    static (Tensor Output, Tensor Weights) Reference(MultiHeadAttention ours, Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor? keyPadding)
    {
        var builtIn = nn.MultiheadAttention(ours.Width, ours.Heads);
        ours.CopyTo(builtIn);
        var (output, weights) = builtIn.forward(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1),
            keyPadding?.logical_not(), true, mask is null ? null : Masks.ToAdditive(mask));
        return (output.transpose(0, 1), weights);
    }

    [Fact]
    public void Matches_TorchSharp_MultiheadAttention_without_a_mask()
    {
        var mha = new MultiHeadAttention(16, 4);
        var (q, kv) = (randn(3, 5, 16), randn(3, 7, 16));
        using var ours = mha.forward(q, kv, kv);
        Assert.Equal(new long[] { 3, 4, 5, 7 }, ours.Weights.shape);
        Assert.True(MaxDiff(ours.Weights.sum(-1), ones(3, 4, 5)) < 1e-5);
        var (output, weights) = Reference(mha, q, kv, kv, null, null);
        Assert.True(MaxDiff(ours.Output, output) < 1e-5);
        Assert.True(MaxDiff(ours.Weights.mean([1]), weights) < 1e-5);
    }

    [Fact]
    public void Matches_TorchSharp_MultiheadAttention_with_causal_and_key_padding_masks()
    {
        var mha = new MultiHeadAttention(16, 4);
        var x = randn(2, 6, 16);
        var causal = Masks.Causal(6);
        var keyPadding = Masks.Padding([6, 4], 6).squeeze(1);   // (B, L): true = real token
        using var ours = mha.forward(x, x, x, causal, keyPadding);
        var (output, weights) = Reference(mha, x, x, x, causal, keyPadding);
        Assert.True(MaxDiff(ours.Output, output) < 1e-5);
        Assert.True(MaxDiff(ours.Weights.mean([1]), weights) < 1e-5);
        Assert.Equal(0f, ours.Weights[1, .., .., 4..].abs().sum().item<float>());
        Assert.Equal(0f, ours.Weights.triu(1).abs().sum().item<float>());
        // The same masks given as one (B, L_q, L_k) mask, as single-head attention takes them.
        using var combined = mha.forward(x, x, x, Masks.Combine(causal, Masks.Padding([6, 4], 6)));
        Assert.True(MaxDiff(combined.Output, ours.Output) < 1e-6);
    }

    [Fact]
    public void Equals_h_independent_heads_concatenated_and_projected()
    {
        var mha = new MultiHeadAttention(12, 3);
        var (q, kv) = (randn(2, 4, 12), randn(2, 5, 12));
        var mask = Masks.Padding([5, 2], 5);
        using var batched = mha.forward(q, kv, kv, mask);
        using var looped = mha.ForwardHeadByHead(q, kv, kv, mask);
        Assert.True(MaxDiff(batched.Output, looped.Output) < 1e-5);
        Assert.True(MaxDiff(batched.Weights, looped.Weights) < 1e-6);
        // Written out here too: head i owns rows i·d_k..(i+1)·d_k of W^Q, W^K, W^V.
        var heads = new List<Tensor>();
        for (int h = 0; h < 3; h++)
        {
            var rows = TensorIndex.Slice(4 * h, 4 * h + 4);
            Tensor Project(TorchSharp.Modules.Linear l, Tensor x) => nn.functional.linear(x, l.weight![rows], l.bias![rows]);
            using var head = ScaledDotProductAttention.Compute(Project(mha.QueryProjection, q), Project(mha.KeyProjection, kv), Project(mha.ValueProjection, kv), mask);
            heads.Add(head.Output.clone());
        }
        Assert.True(MaxDiff(mha.OutputProjection.forward(cat(heads, -1)), batched.Output) < 1e-5);
    }

    [Fact]
    public void Has_4d_squared_plus_4d_parameters()
    {
        foreach (var d in new[] { 16, 512 })
        {
            var mha = new MultiHeadAttention(d, 8);
            Assert.Equal(4L * d * d + 4 * d, mha.parameters().Sum(p => p.NumberOfElements));
            Assert.Equal(4L * d * d + 4 * d, MultiHeadAttention.ParameterCount(d));
        }
        Assert.Equal(1_050_624, MultiHeadAttention.ParameterCount(512));
        var names = new MultiHeadAttention(8, 2).named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(["q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias", "v_proj.weight", "v_proj.bias", "out_proj.weight", "out_proj.bias"], names);
    }

    [Fact]
    public void Splits_and_merges_heads_and_takes_per_head_masks()
    {
        var x = randn(2, 5, 12);
        var split = MultiHeadAttention.SplitHeads(x, 3);
        Assert.Equal(new long[] { 2, 3, 5, 4 }, split.shape);
        Assert.True(MaxDiff(split[0, 1, 2], x[0, 2, 4..8]) == 0);
        Assert.True(MaxDiff(MultiHeadAttention.MergeHeads(split), x) == 0);
        // A 4-D mask can differ per head: head 0 sees only key 0, head 1 sees everything.
        var mha = new MultiHeadAttention(12, 2);
        var perHead = stack([zeros(5, 5, dtype: ScalarType.Bool).index_fill(1, tensor(new long[] { 0 }), true), ones(5, 5, dtype: ScalarType.Bool)]).unsqueeze(0);
        using var r = mha.forward(x, x, x, perHead);
        Assert.True(MaxDiff(r.Weights[.., 0, .., 0], ones(2, 5)) < 1e-6);
        using var looped = mha.ForwardHeadByHead(x, x, x, perHead);
        Assert.True(MaxDiff(r.Output, looped.Output) < 1e-5);
    }

    [Fact]
    public void Bad_input_names_the_argument_and_sizes()
    {
        var mha = new MultiHeadAttention(8, 2);
        var e = Assert.Throws<ArgumentException>(() => mha.forward(randn(2, 3, 6), randn(2, 3, 8), randn(2, 3, 8)));
        Assert.Equal("query", e.ParamName);
        Assert.Contains("[2, 3, 6]", e.Message);
        e = Assert.Throws<ArgumentException>(() => mha.forward(randn(2, 3, 8), randn(2, 4, 8), randn(2, 5, 8)));
        Assert.Equal("value", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => mha.forward(randn(2, 3, 8), randn(2, 4, 8), randn(2, 4, 8), Masks.Causal(3)));
        Assert.Equal("mask", e.ParamName);
        Assert.Contains("[2, 3, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => mha.forward(randn(2, 3, 8), randn(2, 4, 8), randn(2, 4, 8), null, ones(2, 3, dtype: ScalarType.Bool)));
        Assert.Equal("keyPaddingMask", e.ParamName);
        Assert.Contains("[2, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => mha.forward(randn(1, 3, 8), randn(1, 3, 8), randn(1, 3, 8), zeros(3, 3)));
        Assert.Equal("mask", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new MultiHeadAttention(10, 4));
        Assert.Contains("10", e.Message);
        e = Assert.Throws<ArgumentException>(() => mha.CopyTo(nn.MultiheadAttention(16, 2)));
        Assert.Contains("[48, 16]", e.Message);
    }
}
