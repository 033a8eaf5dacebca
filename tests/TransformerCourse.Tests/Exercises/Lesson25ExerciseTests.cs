using TransformerCourse.Exercises;
using TransformerCourse.Modern;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 25's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson25ExerciseTests : TorchTest
{
    static void NotYet(Verdict verdict, string named)
    {
        Assert.False(verdict.Passed, verdict.Feedback);
        Assert.Contains(named, verdict.Feedback);
        Assert.Contains("Hint:", verdict.Feedback);
    }

    // ----- Exercise 1: RMSNorm
    [Fact]
    public void RmsNorm_reference_passes() =>
        Assert.True(Lesson25.RmsNorm((x, g, eps) => x * (x.pow(2).mean([-1], keepdim: true) + eps).rsqrt() * g).Passed);

    [Fact]
    public void RmsNorm_placeholder_fails() => NotYet(Lesson25.RmsNorm((x, g, eps) => x), "placeholder");

    [Fact]
    public void RmsNorm_as_layer_norm_is_named() => NotYet(Lesson25.RmsNorm((x, g, eps) =>
    {
        var c = x - x.mean([-1], keepdim: true);
        return c / (c.pow(2).mean([-1], keepdim: true) + eps).sqrt() * g;
    }), "that is LayerNorm");

    [Fact]
    public void RmsNorm_with_eps_outside_the_root_is_named() =>
        NotYet(Lesson25.RmsNorm((x, g, eps) => x / (x.pow(2).mean([-1], keepdim: true).sqrt() + eps) * g), "after the square root");

    [Fact]
    public void RmsNorm_without_the_gain_is_named() =>
        NotYet(Lesson25.RmsNorm((x, g, eps) => x / (x.pow(2).mean([-1], keepdim: true) + eps).sqrt()), "gain is missing");

    [Fact]
    public void RmsNorm_with_the_vector_length_is_named() =>
        NotYet(Lesson25.RmsNorm((x, g, eps) => x / (x.pow(2).sum([-1], keepdim: true) + eps).sqrt() * g), "SUM of squares");

    [Fact]
    public void RmsNorm_over_the_whole_tensor_is_named() =>
        NotYet(Lesson25.RmsNorm((x, g, eps) => x / (x.pow(2).mean() + eps).sqrt() * g), "whole tensor");

    [Fact]
    public void RmsNorm_calling_the_library_is_refused() =>
        NotYet(Lesson25.RmsNorm((x, g, eps) => RmsNorm.Normalize(x, g, eps)), "RmsNorm.Normalize");

    [Fact]
    public void RmsNorm_in_place_is_named() =>
        NotYet(Lesson25.RmsNorm((x, g, eps) => x.mul_((x.pow(2).mean([-1], keepdim: true) + eps).rsqrt()).mul_(g)), "in place");

    // ----- Exercise 2: ALiBi slopes
    [Fact]
    public void Slopes_reference_passes() =>
        Assert.True(Lesson25.AlibiSlopes(h => Enumerable.Range(1, h).Select(i => Math.Pow(2, -8.0 * i / h)).ToArray()).Passed);

    [Fact]
    public void Slopes_placeholder_fails() => NotYet(Lesson25.AlibiSlopes(h => new double[h]), "placeholder");

    [Fact]
    public void Slopes_with_a_base_fixed_for_eight_heads_are_named() =>
        NotYet(Lesson25.AlibiSlopes(h => Enumerable.Range(1, h).Select(i => Math.Pow(2, -i)).ToArray()), "right only for 8 heads");

    [Fact]
    public void Slopes_counted_from_zero_are_named() =>
        NotYet(Lesson25.AlibiSlopes(h => Enumerable.Range(0, h).Select(i => Math.Pow(2, -8.0 * i / h)).ToArray()), "numbered from 1");

    [Fact]
    public void Slopes_reversed_are_named() =>
        NotYet(Lesson25.AlibiSlopes(h => Enumerable.Range(1, h).Select(i => Math.Pow(2, -8.0 * i / h)).Reverse().ToArray()), "reverse order");

    [Fact]
    public void Slopes_with_base_e_are_named() =>
        NotYet(Lesson25.AlibiSlopes(h => Enumerable.Range(1, h).Select(i => Math.Exp(-8.0 * i / h)).ToArray()), "power of e");

    [Fact]
    public void Slopes_from_the_library_are_refused() => NotYet(Lesson25.AlibiSlopes(Alibi.Slopes), "Alibi.Slopes");

    // ----- Exercise 3: sliding-window mask
    static Tensor Offsets(int t) => arange(t).unsqueeze(1) - arange(t).unsqueeze(0);   // i − j

    [Fact]
    public void Window_reference_passes() =>
        Assert.True(Lesson25.WindowMask((t, w) => Offsets(t).ge(0).logical_and(Offsets(t).lt(w))).Passed);

    [Fact]
    public void Window_placeholder_fails() => NotYet(Lesson25.WindowMask((t, w) => zeros(t, t, dtype: ScalarType.Bool)), "placeholder");

    [Fact]
    public void Window_one_too_wide_is_named() =>
        NotYet(Lesson25.WindowMask((t, w) => Offsets(t).ge(0).logical_and(Offsets(t).le(w))), "one too many");

    [Fact]
    public void Window_that_is_not_causal_is_named() =>
        NotYet(Lesson25.WindowMask((t, w) => Offsets(t).abs().lt(w)), "must stay causal");

    [Fact]
    public void Window_without_the_window_is_named() =>
        NotYet(Lesson25.WindowMask((t, w) => ones(t, t, dtype: ScalarType.Bool).tril()), "window is missing");

    [Fact]
    public void Window_inverted_is_named() =>
        NotYet(Lesson25.WindowMask((t, w) => Offsets(t).ge(0).logical_and(Offsets(t).lt(w)).logical_not()), "inverted");

    [Fact]
    public void Window_as_floats_is_named() =>
        NotYet(Lesson25.WindowMask((t, w) => Offsets(t).ge(0).logical_and(Offsets(t).lt(w)).to_type(ScalarType.Float32)), "Bool");

    [Fact]
    public void Window_from_the_library_is_refused() => NotYet(Lesson25.WindowMask((t, w) => SlidingWindow.Mask(t, w)), "SlidingWindow.Mask");
}
