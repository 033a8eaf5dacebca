using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>The running max/sum update of the online softmax, on adversarial inputs.</summary>
public class OnlineSoftmaxTests : TorchTest
{
    static Tensor Scores(params double[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], dtype: ScalarType.Float64);
    const double NegInf = double.NegativeInfinity;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    public void Streamed_log_sum_exp_equals_the_one_pass_value(int block)
    {
        var s = randn(5, 37, dtype: ScalarType.Float64) * 4;
        Assert.True(OnlineSoftmax.LogSumExp(s, block).allclose(s.logsumexp(-1), rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void Large_logits_do_not_overflow_and_match_the_exact_value()
    {
        var s = Scores([1000, 1001, 999, 1003, 1002, 998], [-1000, -1001, -999, -1003, -1002, -998]).to_type(ScalarType.Float32);
        var got = OnlineSoftmax.LogSumExp(s, 2);
        Assert.True(got.isfinite().all().item<bool>());
        Assert.True(got.to_type(ScalarType.Float64).allclose(s.to_type(ScalarType.Float64).logsumexp(-1), rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void Minus_infinity_blocks_contribute_nothing_and_a_fully_masked_row_gives_minus_infinity()
    {
        var s = Scores([NegInf, NegInf, 1, 2, NegInf, NegInf], [NegInf, NegInf, NegInf, NegInf, NegInf, NegInf]);
        var got = OnlineSoftmax.LogSumExp(s, 2);
        Assert.False(got.isnan().any().item<bool>());
        Assert.Equal(Math.Log(Math.Exp(1) + Math.Exp(2)), got[0].item<double>(), 12);
        Assert.True(double.IsNegativeInfinity(got[1].item<double>()));
    }

    [Fact]
    public void Merge_rescales_both_sums_to_the_larger_maximum()
    {
        var (ma, la) = OnlineSoftmax.OfBlock(Scores([0, 1], [5, 5]));
        var (mb, lb) = OnlineSoftmax.OfBlock(Scores([3, 2], [NegInf, NegInf]));
        var (m, l) = OnlineSoftmax.Merge(ma, la, mb, lb);
        Assert.Equal(3, m[0].item<double>());
        Assert.Equal(Math.Exp(-3) + Math.Exp(-2) + 1 + Math.Exp(-1), l[0].item<double>(), 12);
        Assert.Equal(5, m[1].item<double>());                       // the empty block leaves the row as it was
        Assert.Equal(2, l[1].item<double>(), 12);
        var (m0, l0) = OnlineSoftmax.Merge(mb[1..], lb[1..], mb[1..], lb[1..]);   // both empty: max −∞, sum 0, no NaN
        Assert.True(double.IsNegativeInfinity(m0.item<double>()));
        Assert.Equal(0, l0.item<double>());
    }

    [Fact]
    public void Update_over_blocks_gives_softmax_times_values_and_a_fully_masked_row_stays_zero()
    {
        var s = randn(4, 12, dtype: ScalarType.Float64) * 3;
        s[3] = full(12, NegInf, dtype: ScalarType.Float64);
        s[1, TensorIndex.Slice(0, 4)] = full(4, NegInf, dtype: ScalarType.Float64);   // a whole first block masked
        var v = randn(12, 3, dtype: ScalarType.Float64);
        Tensor m = full(4, NegInf, dtype: ScalarType.Float64), l = zeros(4, dtype: ScalarType.Float64), o = zeros(4, 3, dtype: ScalarType.Float64);
        for (int start = 0; start < 12; start += 4)
            (m, l, o) = OnlineSoftmax.Update(m, l, o, s[.., start..(start + 4)], v[start..(start + 4)]);
        Assert.False(o.isnan().any().item<bool>() || l.isnan().any().item<bool>());
        var want = s[..3].softmax(-1).matmul(v);
        Assert.True((o[..3] / l[..3].unsqueeze(-1)).allclose(want, rtol: 0, atol: 1e-12));
        Assert.Equal(0, l[3].item<double>());
        Assert.Equal(0, o[3].abs().sum().item<double>());
    }

    [Fact]
    public void Bad_shapes_name_the_argument()
    {
        var e = Assert.Throws<ArgumentException>(() => OnlineSoftmax.Merge(zeros(3), zeros(3), zeros(4), zeros(4)));
        Assert.Contains("[4]", e.Message);
        var u = Assert.Throws<ArgumentException>(() => OnlineSoftmax.Update(zeros(2), zeros(2), zeros(2, 3), zeros(2, 5), zeros(4, 3)));
        Assert.Equal("values", u.ParamName);
        Assert.ThrowsAny<ArgumentException>(() => OnlineSoftmax.LogSumExp(zeros(2, 3), 0));
    }
}
