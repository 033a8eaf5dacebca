using TransformerCourse.Exercises;
using TransformerCourse.Gpt;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 26's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson26ExerciseTests : TorchTest
{
    static (Tensor, Tensor) Windows(Tensor data, Tensor starts, int context, long xShift, long yShift)
    {
        var offsets = arange(context).unsqueeze(0);
        return (data[starts.unsqueeze(1) + offsets + xShift], data[starts.unsqueeze(1) + offsets + yShift]);
    }

    [Fact]
    public void Make_batch_reference_passes() => Assert.True(Lesson26.MakeBatch((d, s, c) =>
    {
        var w = d[s.unsqueeze(1) + arange(c + 1).unsqueeze(0)];
        return (w[.., ..c], w[.., 1..]);
    }).Passed);

    [Fact]
    public void Make_batch_placeholder_fails() =>
        Assert.Contains("all zeros", Lesson26.MakeBatch((d, s, c) => (zeros(s.shape[0], c, dtype: ScalarType.Int64), zeros(s.shape[0], c, dtype: ScalarType.Int64))).Feedback);

    [Theory]
    [InlineData(0, 0, "same as X")]
    [InlineData(0, -1, "wrong way")]
    [InlineData(1, 2, "one token late")]
    public void Make_batch_mistakes_are_named(long xShift, long yShift, string diagnosis)
    {
        var verdict = Lesson26.MakeBatch((d, s, c) => Windows(d, s, c, xShift, yShift));
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    [Fact]
    public void Make_batch_with_float_ids_is_named()
    {
        var verdict = Lesson26.MakeBatch((d, s, c) => { var (x, y) = Windows(d, s, c, 0, 1); return (x.to_type(ScalarType.Float32), y.to_type(ScalarType.Float32)); });
        Assert.False(verdict.Passed);
        Assert.Contains("int64", verdict.Feedback);
    }

    static long Reference(GptConfig c)
    {
        long d = c.Width;
        return (long)c.VocabSize * d + (long)c.ContextLength * d + c.Layers * (12 * d * d + 13 * d) + 2 * d;
    }

    [Fact]
    public void Count_reference_passes() => Assert.True(Lesson26.CountParameters(Reference).Passed);

    [Fact]
    public void Count_placeholder_fails() => Assert.Contains("still returns 0", Lesson26.CountParameters(_ => 0).Feedback);

    [Theory]
    [InlineData("tied", "the output layer")]
    [InlineData("no positions", "position embedding")]
    [InlineData("no biases", "biases of the four Linear")]
    [InlineData("no norms", "layer norms")]
    [InlineData("hard-coded", "every configuration")]
    [InlineData("no final norm", "final layer norm")]
    [InlineData("gain-only norms", "you counted one")]
    public void Count_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<GptConfig, long> wrong = mistake switch
        {
            "tied" => c => Reference(c) + (long)c.VocabSize * c.Width,
            "no positions" => c => Reference(c) - (long)c.ContextLength * c.Width,
            "no biases" => c => Reference(c) - c.Layers * 9L * c.Width,
            "no norms" => c => Reference(c) - (c.Layers * 4L * c.Width + 2L * c.Width),
            "no final norm" => c => Reference(c) - 2L * c.Width,
            "gain-only norms" => c => Reference(c) - (2L * c.Layers + 1) * c.Width,
            _ => _ => 809_856,
        };
        var verdict = Lesson26.CountParameters(wrong);
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    [Fact]
    public void Building_the_model_is_refused()
    {
        var verdict = Lesson26.CountParameters(c => { using var m = new GptModel(c); return m.ParameterCount; });
        Assert.False(verdict.Passed);
        Assert.Contains("new GptModel(...)", verdict.Feedback);
    }

    [Fact]
    public void Counting_a_built_block_is_refused()
    {
        var verdict = Lesson26.CountParameters(c =>
        {
            using var block = new GptBlock(c);
            return (long)(c.VocabSize + c.ContextLength) * c.Width + 2L * c.Width + c.Layers * block.parameters().Sum(p => p.NumberOfElements);
        });
        Assert.False(verdict.Passed);
        Assert.Contains("new GptBlock(...)", verdict.Feedback);
    }

    [Fact]
    public void Counting_built_parts_of_a_block_is_refused()
    {
        var verdict = Lesson26.CountParameters(c =>
        {
            using var mlp = new Mlp(c);
            return mlp.parameters().Sum(p => p.NumberOfElements);
        });
        Assert.False(verdict.Passed);
        Assert.Contains("new Mlp(...)", verdict.Feedback);
    }
}
