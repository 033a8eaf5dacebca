using TransformerCourse.Analysis;
using TransformerCourse.Exercises;
using TransformerCourse.Scaling;
using TransformerCourse.Tests.Library;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 19's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson19ExerciseTests : TorchTest
{
    // ----- Exercise 1: compute-optimal N and D
    [Fact]
    public void Optimal_reference_passes() => Assert.True(Lesson19.AllocateCompute(c => { var n = Math.Sqrt(c / (6 * 20)); return (n, 20 * n); }).Passed);

    [Fact]
    public void Optimal_placeholder_fails()
    {
        var verdict = Lesson19.AllocateCompute(c => (0, 0));
        Assert.False(verdict.Passed);
        Assert.Contains("placeholder", verdict.Feedback);
    }

    [Fact]
    public void Optimal_without_the_six_is_named()
    {
        var verdict = Lesson19.AllocateCompute(c => { var n = Math.Sqrt(c / 20); return (n, 20 * n); });
        Assert.False(verdict.Passed);
        Assert.Contains("6 FLOPs per parameter per token", verdict.Feedback);
    }

    [Fact]
    public void Optimal_with_forward_flops_only_is_named()
    {
        var verdict = Lesson19.AllocateCompute(c => { var n = Math.Sqrt(c / (2 * 20)); return (n, 20 * n); });
        Assert.False(verdict.Passed);
        Assert.Contains("forward pass only", verdict.Feedback);
    }

    [Fact]
    public void Optimal_swapped_is_named()
    {
        var verdict = Lesson19.AllocateCompute(c => { var n = Math.Sqrt(c / 120); return (20 * n, n); });
        Assert.False(verdict.Passed);
        Assert.Contains("swapped", verdict.Feedback);
    }

    [Fact]
    public void Optimal_without_the_square_root_is_named()
    {
        var verdict = Lesson19.AllocateCompute(c => (c / 120, 20 * c / 120));
        Assert.False(verdict.Passed);
        Assert.Contains("square root", verdict.Feedback);
    }

    [Fact]
    public void Optimal_hard_coded_for_chinchilla_fails()
    {
        var verdict = Lesson19.AllocateCompute(c => (6.93e10, 1.386e12));
        Assert.False(verdict.Passed);
    }

    [Fact]
    public void Optimal_calling_the_library_is_refused()
    {
        var verdict = Lesson19.AllocateCompute(c => ComputeOptimal.Allocate(c));
        Assert.False(verdict.Passed);
        Assert.Contains("ComputeOptimal.Allocate", verdict.Feedback);
    }

    // ----- Exercise 2: the exponent with a known floor
    static double Slope(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average();
        return x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my)) / x.Sum(v => (v - mx) * (v - mx));
    }

    [Fact]
    public void Exponent_reference_passes() => Assert.True(Lesson19.FitExponent((n, l, e) =>
        -Slope(n.Select(v => Math.Log(v)).ToArray(), l.Select(v => Math.Log(v - e)).ToArray())).Passed);

    [Fact]
    public void Exponent_placeholder_fails()
    {
        var verdict = Lesson19.FitExponent((n, l, e) => 0);
        Assert.False(verdict.Passed);
        Assert.Contains("placeholder", verdict.Feedback);
    }

    [Fact]
    public void Exponent_with_the_wrong_sign_is_named()
    {
        var verdict = Lesson19.FitExponent((n, l, e) => Slope(n.Select(v => Math.Log(v)).ToArray(), l.Select(v => Math.Log(v - e)).ToArray()));
        Assert.False(verdict.Passed);
        Assert.Contains("sign is flipped", verdict.Feedback);
    }

    [Fact]
    public void Exponent_without_the_floor_is_named()
    {
        var verdict = Lesson19.FitExponent((n, l, e) => -Slope(n.Select(v => Math.Log(v)).ToArray(), l.Select(v => Math.Log(v)).ToArray()));
        Assert.False(verdict.Passed);
        Assert.Contains("floor E was not subtracted", verdict.Feedback);
    }

    [Fact]
    public void Exponent_from_two_points_is_named()
    {
        var verdict = Lesson19.FitExponent((n, l, e) => -(Math.Log(l[^1] - e) - Math.Log(l[0] - e)) / (Math.Log(n[^1]) - Math.Log(n[0])));
        Assert.False(verdict.Passed);
        Assert.Contains("first and last points", verdict.Feedback);
    }

    [Fact]
    public void Exponent_on_a_semi_log_scale_is_named()
    {
        var verdict = Lesson19.FitExponent((n, l, e) => -Slope(n, l.Select(v => Math.Log(v - e)).ToArray()));
        Assert.False(verdict.Passed);
        Assert.Contains("only one axis", verdict.Feedback);
    }

    [Fact]
    public void Exponent_from_the_log_loss_objective_is_named()
    {
        // A plausible reading of "Fitting the law": minimise Σ(ln L − ln(E + A·N^−α))² with E held fixed.
        var verdict = Lesson19.FitExponent((n, l, e) => LeastSquares.Minimize(
            t => n.Select((v, i) => Math.Log(l[i]) - Math.Log(e + Math.Exp(t[0]) * Math.Pow(v, -t[1]))).ToArray(),
            [Math.Log(l[0] - e) + 0.3 * Math.Log(n[0]), 0.3], [-50, 0], [50, 5]).Parameters[1]);
        Assert.False(verdict.Passed);
        Assert.Contains("different objective", verdict.Feedback);
        Assert.Contains("error in ln L", verdict.Feedback);
    }

    [Fact]
    public void Exponent_calling_the_library_is_refused()
    {
        var verdict = Lesson19.FitExponent((n, l, e) => -PowerLawFit.Fit(n, l.Select(v => v - e).ToArray()).Exponent);
        Assert.False(verdict.Passed);
        Assert.Contains("PowerLawFit.Fit", verdict.Feedback);
    }
}
