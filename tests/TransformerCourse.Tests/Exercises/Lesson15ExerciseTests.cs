using TransformerCourse.EncoderFamily;
using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 15's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson15ExerciseTests : TorchTest
{
    // ---- Exercise 1: ALBERT on a parameter budget ----

    static long Widest(long v, long h, long budget) => Math.Max(0, (budget - h) / (v + h));

    [Fact]
    public void Widest_embedding_reference_passes() => Assert.True(Lesson15.WidestEmbedding(Widest).Passed);

    [Fact]
    public void Widest_embedding_a_search_over_the_cost_passes_too()
    {
        long Search(long v, long h, long budget)
        {
            long e = 0;
            while (v * (e + 1) + (e + 1) * h + h <= budget) e++;
            return e;
        }
        Assert.True(Lesson15.WidestEmbedding(Search).Passed);
    }

    [Fact]
    public void Widest_embedding_placeholder_fails() =>
        Assert.Contains("NotImplementedException", Lesson15.WidestEmbedding((_, _, _) => throw new NotImplementedException()).Feedback);

    [Fact]
    public void Widest_embedding_notebook_placeholder_fails() =>
        Assert.Contains("replace the placeholder", Lesson15.WidestEmbedding((_, _, _) => 0).Feedback);

    [Fact]
    public void Widest_embedding_calling_the_library_is_refused()
    {
        long ViaLibrary(long v, long h, long budget)
        {
            long e = 0;
            while (FactorisedEmbedding.ParameterCount(v, e + 1, h) <= budget) e++;
            return e;
        }
        var verdict = Lesson15.WidestEmbedding(ViaLibrary);
        Assert.False(verdict.Passed);
        Assert.Contains("FactorisedEmbedding.ParameterCount", verdict.Feedback);
    }

    [Theory]
    [InlineData("nobias", "bias")]
    [InlineData("noprojection", "projection up to the model width is missing")]
    [InlineData("roundup", "Round down")]
    [InlineData("product", "two separate matrices")]
    [InlineData("negative", "cannot be negative")]
    public void Widest_embedding_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<long, long, long, long> wrong = mistake switch
        {
            "nobias" => (v, h, b) => b / (v + h),
            "noprojection" => (v, h, b) => (b - h) / v,
            "roundup" => (v, h, b) => Math.Max(0, (long)Math.Ceiling((b - h) / (double)(v + h))),
            "product" => (v, h, b) => b / (v * h),
            _ => (v, h, b) => (long)Math.Floor((b - h) / (double)(v + h)),
        };
        var verdict = Lesson15.WidestEmbedding(wrong);
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    // ---- Exercise 2: the soft-target loss ----

    static Tensor Reference(Tensor student, Tensor teacher, double t)
    {
        var ls = nn.functional.log_softmax(student / t, -1);
        var lt = nn.functional.log_softmax(teacher / t, -1);
        return (lt.exp() * (lt - ls)).sum(-1).mean() * (t * t);
    }

    [Fact]
    public void Soft_loss_reference_passes() => Assert.True(Lesson15.SoftTargetLoss(Reference).Passed);

    [Fact]
    public void Soft_loss_placeholder_fails() =>
        Assert.Contains("NotImplementedException", Lesson15.SoftTargetLoss((_, _, _) => throw new NotImplementedException()).Feedback);

    [Fact]
    public void Soft_loss_notebook_placeholder_fails() =>
        Assert.Contains("replace the placeholder", Lesson15.SoftTargetLoss((s, _, _) => zeros(1).sum()).Feedback);

    [Fact]
    public void Soft_loss_calling_the_library_is_refused() =>
        Assert.Contains("Distillation.SoftTargetLoss", Lesson15.SoftTargetLoss(Distillation.SoftTargetLoss).Feedback);

    [Theory]
    [InlineData("noTsquared", "T² factor is missing")]
    [InlineData("scaledByT", "scaled by T, not by T²")]
    [InlineData("studentWithoutT", "student's softmax is taken without the temperature")]
    [InlineData("teacherWithoutT", "teacher's softmax is taken without the temperature")]
    [InlineData("reversed", "wrong way round")]
    [InlineData("crossEntropy", "teacher's entropy")]
    [InlineData("sumRows", "sums over the rows")]
    [InlineData("detached", "no gradient")]
    public void Soft_loss_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<Tensor, Tensor, double, Tensor> wrong = mistake switch
        {
            "noTsquared" => (s, t, T) => Reference(s, t, T) / (T * T),
            "scaledByT" => (s, t, T) => Reference(s, t, T) / T,
            "studentWithoutT" => (s, t, T) =>
            {
                var ls = nn.functional.log_softmax(s, -1); var lt = nn.functional.log_softmax(t / T, -1);
                return (lt.exp() * (lt - ls)).sum(-1).mean() * (T * T);
            },
            "teacherWithoutT" => (s, t, T) =>
            {
                var ls = nn.functional.log_softmax(s / T, -1); var lt = nn.functional.log_softmax(t, -1);
                return (lt.exp() * (lt - ls)).sum(-1).mean() * (T * T);
            },
            "reversed" => (s, t, T) => Reference(t, s, T),
            "crossEntropy" => (s, t, T) =>
            {
                var ls = nn.functional.log_softmax(s / T, -1); var pt = nn.functional.softmax(t / T, -1);
                return -(pt * ls).sum(-1).mean() * (T * T);
            },
            "sumRows" => (s, t, T) => Reference(s, t, T) * s.shape[0],
            _ => (s, t, T) => Reference(s.detach(), t, T),
        };
        var verdict = Lesson15.SoftTargetLoss(wrong);
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    // ---- Exercise 3: mean pooling ----

    static Tensor Pool(Tensor hidden, Tensor keep)
    {
        var w = keep.to_type(hidden.dtype).unsqueeze(-1);
        return (hidden * w).sum(1) / w.sum(1).clamp_min(1);
    }

    [Fact]
    public void Mean_pool_reference_passes() => Assert.True(Lesson15.MeanPool(Pool).Passed);

    [Fact]
    public void Mean_pool_placeholder_fails() =>
        Assert.Contains("NotImplementedException", Lesson15.MeanPool((_, _) => throw new NotImplementedException()).Feedback);

    [Fact]
    public void Mean_pool_notebook_placeholder_fails() =>
        Assert.Contains("replace the placeholder", Lesson15.MeanPool((h, _) => zeros(h.shape[0], h.shape[2], dtype: h.dtype)).Feedback);

    [Fact]
    public void Mean_pool_calling_the_library_is_refused() =>
        Assert.Contains("MeanPooling.Pool", Lesson15.MeanPool(MeanPooling.Pool).Feedback);

    [Theory]
    [InlineData("all", "padding included")]
    [InlineData("dividedByLength", "divides by the full length")]
    [InlineData("noDivision", "never divides")]
    [InlineData("nan", "NaN")]
    public void Mean_pool_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<Tensor, Tensor, Tensor> wrong = mistake switch
        {
            "all" => (h, k) => h.mean([1]),
            "dividedByLength" => (h, k) => (h * k.to_type(h.dtype).unsqueeze(-1)).sum(1) / h.shape[1],
            "noDivision" => (h, k) => (h * k.to_type(h.dtype).unsqueeze(-1)).sum(1),
            _ => (h, k) => { var w = k.to_type(h.dtype).unsqueeze(-1); return (h * w).sum(1) / w.sum(1); },
        };
        var verdict = Lesson15.MeanPool(wrong);
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }
}
