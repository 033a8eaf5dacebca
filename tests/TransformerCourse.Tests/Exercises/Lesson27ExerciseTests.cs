using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 27's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson27ExerciseTests : TorchTest
{
    static double Reference(int step, double peak, double floor, int warmup, int total)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        if (step >= total) return floor;
        var progress = (double)(step - warmup) / (total - warmup);
        return floor + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (peak - floor);
    }

    [Fact]
    public void Schedule_reference_passes() => Assert.True(Lesson27.LearningRate(Reference).Passed);

    [Fact]
    public void Schedule_placeholder_fails() => Assert.False(Lesson27.LearningRate((s, peak, f, w, t) => peak).Passed);

    [Theory]
    [InlineData("from zero", "η(0) = 0")]
    [InlineData("to zero", "not at zero")]
    [InlineData("wrong progress", "right after warm-up")]
    [InlineData("short progress", "not the floor")]
    [InlineData("linear", "straight line")]
    [InlineData("no clamp", "stay at the floor")]
    [InlineData("integer division", "dividing two integers")]
    public void Schedule_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<int, double, double, int, int, double> wrong = mistake switch
        {
            "from zero" => (s, p, f, w, t) => s < w ? p * s / w : Reference(s, p, f, w, t),
            "to zero" => (s, p, f, w, t) => Reference(s, p, 0, w, t),
            "wrong progress" => (s, p, f, w, t) => s < w ? Reference(s, p, f, w, t) : f + 0.5 * (1 + Math.Cos(Math.PI * s / t)) * (p - f),
            "short progress" => (s, p, f, w, t) => s < w ? Reference(s, p, f, w, t) : f + 0.5 * (1 + Math.Cos(Math.PI * (s - w) / t)) * (p - f),
            "linear" => (s, p, f, w, t) => s < w ? Reference(s, p, f, w, t) : s >= t ? f : p - (p - f) * (s - w) / (t - w),
            "integer division" => (s, p, f, w, t) => s < w ? Reference(s, p, f, w, t) : s >= t ? f : f + 0.5 * (1 + Math.Cos(Math.PI * ((s - w) / (t - w)))) * (p - f),
            _ => (s, p, f, w, t) => s < w ? Reference(s, p, f, w, t) : f + 0.5 * (1 + Math.Cos(Math.PI * (s - w) / (t - w))) * (p - f),
        };
        var verdict = Lesson27.LearningRate(wrong);
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_schedule_is_refused()
    {
        var verdict = Lesson27.LearningRate((s, p, f, w, t) => new WarmupCosineSchedule(p, f, w, t).At(s));
        Assert.False(verdict.Passed);
        Assert.Contains("WarmupCosineSchedule.At", verdict.Feedback);
    }

    static double Clip(IList<Tensor> grads, double maxNorm)
    {
        var total = Math.Sqrt(grads.Sum(g => g.pow(2).sum().item<float>()));
        if (total > maxNorm)
            foreach (var g in grads) g.mul_(maxNorm / total);
        return total;
    }

    [Fact]
    public void Clip_reference_passes() => Assert.True(Lesson27.ClipGlobalNorm(Clip).Passed);

    [Fact]
    public void Clip_placeholder_fails() => Assert.Contains("unchanged", Lesson27.ClipGlobalNorm((g, m) => 0.0).Feedback);

    [Fact]
    public void Clipping_without_the_condition_is_named()
    {
        var verdict = Lesson27.ClipGlobalNorm((grads, maxNorm) =>
        {
            var total = Math.Sqrt(grads.Sum(g => g.pow(2).sum().item<float>()));
            foreach (var g in grads) g.mul_(maxNorm / total);
            return total;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("already below the limit", verdict.Feedback);
    }

    [Fact]
    public void Per_tensor_clipping_is_named()
    {
        var verdict = Lesson27.ClipGlobalNorm((grads, maxNorm) =>
        {
            double total = Math.Sqrt(grads.Sum(g => g.pow(2).sum().item<float>()));
            foreach (var g in grads) { double n = g.norm().item<float>(); if (n > maxNorm) g.mul_(maxNorm / n); }
            return total;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("on its own", verdict.Feedback);
    }

    [Fact]
    public void Returning_the_norm_after_clipping_is_named()
    {
        var verdict = Lesson27.ClipGlobalNorm((grads, maxNorm) => { var n = Clip(grads, maxNorm); return Math.Min(n, maxNorm); });
        Assert.False(verdict.Passed);
        Assert.Contains("after clipping", verdict.Feedback);
    }

    [Fact]
    public void Replacing_the_list_elements_instead_of_scaling_in_place_is_named()
    {
        var verdict = Lesson27.ClipGlobalNorm((grads, maxNorm) =>
        {
            var total = Math.Sqrt(grads.Sum(g => g.pow(2).sum().item<float>()));
            if (total > maxNorm)
                for (int i = 0; i < grads.Count; i++) grads[i] = grads[i] * (maxNorm / total);
            return total;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("replaced the tensors in the list", verdict.Feedback);
    }

    [Fact]
    public void A_float_precision_schedule_passes()
    {
        var verdict = Lesson27.LearningRate((s, p, f, w, t) => (float)Reference(s, p, f, w, t));
        Assert.True(verdict.Passed, verdict.Feedback);
    }
}
