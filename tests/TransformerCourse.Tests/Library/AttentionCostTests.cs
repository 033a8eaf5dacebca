using TransformerCourse.Analysis;

namespace TransformerCourse.Tests.Library;

public class AttentionCostTests : TorchTest
{
    [Fact]
    public void Multiply_adds_are_two_n_squared_d() => Assert.Equal(2.0 * 100 * 100 * 8, AttentionCost.MultiplyAdds(100, 8));

    [Fact]
    public void Measures_the_weight_tensor_and_fits_one_exponent_per_round()
    {
        var m = AttentionCost.Measure([32, 64, 128], width: 8, rounds: 3, fitFrom: 64);
        Assert.Equal([32 * 32 * 4L, 64 * 64 * 4L, 128 * 128 * 4L], m.Points.Select(p => p.WeightBytes));
        Assert.Equal(3, m.RoundExponents.Count);
        Assert.All(m.Points, p => Assert.True(p.FastestMilliseconds > 0 && p.FastestMilliseconds <= p.MedianMilliseconds));
        double refit = PowerLawFit.Fit([64.0, 128.0], m.Points.Skip(1).Select(p => p.FastestMilliseconds).ToArray()).Exponent;
        Assert.Equal(refit, m.FastestExponent, 9);
        Assert.Equal(2.0 * 128 * 128 * 8, m.Points[^1].MultiplyAdds);
    }

    [Fact]
    public void Bad_input_names_the_argument()
    {
        Assert.Equal("lengths", Assert.Throws<ArgumentException>(() => AttentionCost.Measure([64], 8, 1)).ParamName);
        Assert.Equal("fitFrom", Assert.Throws<ArgumentException>(() => AttentionCost.Measure([32, 64], 8, 1, fitFrom: 64)).ParamName);
    }
}

public class InterleavedTimingTests
{
    [Fact]
    public void Times_every_action_in_every_round()
    {
        int a = 0, b = 0;
        var medians = TransformerCourse.Notebook.InterleavedTiming.MedianMilliseconds([() => a++, () => { b++; Thread.Sleep(2); }], rounds: 3);
        Assert.Equal((4, 4), (a, b));
        Assert.True(medians[1] >= 1.5 && medians[1] > medians[0]);
        Assert.Equal("actions", Assert.Throws<ArgumentException>(() => TransformerCourse.Notebook.InterleavedTiming.MedianMilliseconds([])).ParamName);
    }
}
