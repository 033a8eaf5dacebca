using TransformerCourse.Analysis;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>Blocked attention equals naive attention (forward and gradients); the memory child's report parses.</summary>
public class BlockedAttentionTests : TorchTest
{
    static (Tensor Q, Tensor K, Tensor V) Qkv(long nq, long nk, long d = 8) =>
        (randn(2, 3, nq, d), randn(2, 3, nk, d), randn(2, 3, nk, d));

    static Tensor NaiveMask(long nq, long nk, bool causal, Tensor? mask)
    {
        var keep = ones(nq, nk, dtype: ScalarType.Bool);
        if (causal) keep = keep.tril();
        return mask is null ? keep : keep.logical_and(mask);
    }

    [Theory]
    [InlineData(37, 37, 8, 5, false)]
    [InlineData(37, 37, 8, 5, true)]
    [InlineData(64, 64, 16, 16, true)]
    [InlineData(20, 33, 7, 64, false)]
    public void Forward_and_gradients_match_naive_attention(int nq, int nk, int qb, int kb, bool causal)
    {
        var (q, k, v) = Qkv(nq, nk);
        q.requires_grad_(); k.requires_grad_(); v.requires_grad_();
        var naive = ScaledDotProductAttention.Compute(q, k, v, causal ? NaiveMask(nq, nk, true, null) : null).Output;
        var dOut = randn_like(naive);
        var (gq, gk, gv) = (autograd.grad([naive], [q, k, v], [dOut]) is var g ? (g[0], g[1], g[2]) : default);
        using var blocked = BlockedAttention.Forward(q.detach(), k.detach(), v.detach(), causal, queryBlock: qb, keyBlock: kb);
        Assert.True(blocked.Output.allclose(naive.detach(), rtol: 0, atol: 1e-5));
        var (bq, bk, bv) = BlockedAttention.Backward(q.detach(), k.detach(), v.detach(), blocked, dOut, causal, queryBlock: qb, keyBlock: kb);
        Assert.True(bq.allclose(gq, rtol: 0, atol: 1e-5));
        Assert.True(bk.allclose(gk, rtol: 0, atol: 1e-5));
        Assert.True(bv.allclose(gv, rtol: 0, atol: 1e-5));
    }

    [Theory]
    [InlineData(8, 4, false, 4, 0)]     // 2 x 2 tiles, all needed
    [InlineData(8, 4, true, 3, 1)]      // the tile above the diagonal is skipped
    [InlineData(12, 4, true, 6, 3)]     // 3 x 3 tiles: the 3 above the diagonal are skipped
    [InlineData(10, 4, true, 6, 3)]     // ragged last block: still a lower triangle of tiles
    public void Forward_reports_the_tiles_it_computed_and_skipped(int n, int block, bool causal, long computed, long skipped)
    {
        var (q, k, v) = Qkv(n, n);
        using var r = BlockedAttention.Forward(q, k, v, causal, queryBlock: block, keyBlock: block);
        Assert.Equal(computed, r.TilesComputed);
        Assert.Equal(skipped, r.TilesSkipped);
    }

    [Fact]
    public void A_fully_masked_row_gives_zero_output_and_zero_gradient_not_NaN()
    {
        var (q, k, v) = Qkv(10, 10);
        var mask = ones(10, 10, dtype: ScalarType.Bool);
        mask[4] = zeros(10, dtype: ScalarType.Bool);              // query 4 may attend to nothing
        mask[.., 0..3] = zeros(10, 3, dtype: ScalarType.Bool);   // and a whole key block is masked for everyone
        using var r = BlockedAttention.Forward(q, k, v, mask: mask, queryBlock: 3, keyBlock: 3);
        Assert.False(r.Output.isnan().any().item<bool>());
        Assert.Equal(0, r.Output[.., .., 4].abs().sum().item<float>());
        Assert.True(double.IsNegativeInfinity(r.LogSumExp[0, 0, 4].item<float>()));
        var naive = ScaledDotProductAttention.Compute(q, k, v, mask).Output;   // lesson 4's convention: zeros
        Assert.True(r.Output.allclose(naive, rtol: 0, atol: 1e-5));
        var (dq, dk, dv) = BlockedAttention.Backward(q, k, v, r, ones_like(r.Output), mask: mask, queryBlock: 3, keyBlock: 3);
        Assert.False(dq.isnan().any().item<bool>() || dk.isnan().any().item<bool>() || dv.isnan().any().item<bool>());
        Assert.Equal(0, dq[.., .., 4].abs().sum().item<float>());
    }

    [Fact]
    public void Bad_input_names_the_argument()
    {
        var (q, k, v) = Qkv(4, 4);
        Assert.Equal("queryBlock", Assert.ThrowsAny<ArgumentException>(() => BlockedAttention.Forward(q, k, v, queryBlock: 0)).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => BlockedAttention.Forward(q, k, v, mask: zeros(4, 4))).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentException>(() => BlockedAttention.Forward(q, randn(2, 3, 4, 5), v)).ParamName);
    }

    [Fact]
    public void A_child_report_parses_and_garbage_is_refused()
    {
        var m = AttentionMemory.Parse("noise\nattention-memory {\"Impl\":\"blocked\",\"N\":512,\"Batch\":1,\"Heads\":4,\"Dim\":64,\"Block\":256,\"Device\":\"cpu\",\"Threads\":2,\"PeakRssKb\":123456,\"MedianMs\":5.5}\n");
        Assert.Equal(("blocked", 512, 123456L, 5.5), (m.Impl, m.N, m.PeakRssKb, m.MedianMs!.Value));
        Assert.Throws<InvalidDataException>(() => AttentionMemory.Parse("Unknown command"));
        Assert.Throws<InvalidDataException>(() => AttentionMemory.Parse("attention-memory {not json"));
    }

    [Fact]
    public void A_missing_cli_is_reported_with_the_build_command()
    {
        Environment.SetEnvironmentVariable(AttentionMemory.CliVariable, "/nonexistent/course.dll");
        try { Assert.Contains("TRANSFORMER_COURSE_CLI", Assert.Throws<FileNotFoundException>(AttentionMemory.LocateCli).Message); }
        finally { Environment.SetEnvironmentVariable(AttentionMemory.CliVariable, null); }
    }

    [Fact]
    public void One_child_measures_a_small_configuration()
    {
        var m = AttentionMemory.Measure("blocked", 256, heads: 1, repeats: 1);
        Assert.Equal(("blocked", 256, "cpu"), (m.Impl, m.N, m.Device));
        Assert.InRange(m.PeakRssKb, 10_000, 10_000_000);
        Assert.True(m.MedianMs > 0);
    }
}
