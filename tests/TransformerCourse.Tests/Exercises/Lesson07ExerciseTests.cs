using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 7's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson07ExerciseTests : TorchTest
{
    static void AssertPass(Verdict verdict) => Assert.True(verdict.Passed, verdict.Feedback);

    static void AssertNotYet(Verdict verdict, string diagnosis)
    {
        Assert.False(verdict.Passed);
        Assert.True(verdict.Feedback.Contains(diagnosis), $"expected '{diagnosis}' in: {verdict.Feedback}");
    }

    static Tensor Sinusoidal(int length, int width, double exponentScale = 1, bool halves = false)
    {
        var positions = arange(length, dtype: ScalarType.Float64).unsqueeze(1);
        var frequencies = pow(10000.0, -arange(0, width, 2, dtype: ScalarType.Float64) / width * exponentScale);
        var angles = positions * frequencies;
        return (halves ? cat([angles.sin(), angles.cos()], -1) : stack([angles.sin(), angles.cos()], -1).reshape(length, width)).to_type(ScalarType.Float32);
    }

    // The test's own R_k: Lesson07.Rotation is refused inside a check, like every shortcut.
    static Tensor Rotation(int width, int k, Func<int, int, double>? angleOf = null)
    {
        angleOf ??= (i, w) => Math.Pow(10000, -2.0 * i / w) * k;
        var r = zeros(width, width, dtype: ScalarType.Float64);
        for (int i = 0; i < width / 2; i++)
        {
            double angle = angleOf(i, width);
            r[2 * i, 2 * i] = Math.Cos(angle); r[2 * i, 2 * i + 1] = Math.Sin(angle);
            r[2 * i + 1, 2 * i] = -Math.Sin(angle); r[2 * i + 1, 2 * i + 1] = Math.Cos(angle);
        }
        return r;
    }

    [Fact]
    public void Table_reference_passes() => AssertPass(Lesson07.SinusoidalTable((l, w) => Sinusoidal(l, w)));

    [Fact]
    public void Table_matches_the_library() => Assert.True(Exercise.Same(Lesson07.Table(37, 24), SinusoidalPositionalEncoding.Table(37, 24), 1e-6));

    [Fact]
    public void Table_placeholder_fails()
    {
        var verdict = Lesson07.SinusoidalTable((l, w) => zeros(l, w));
        AssertNotYet(verdict, "differs from the sinusoidal encoding");
    }

    [Fact]
    public void Using_the_column_number_in_the_exponent_is_named()
    {
        var verdict = Lesson07.SinusoidalTable((l, w) => Sinusoidal(l, w, exponentScale: 2));
        AssertNotYet(verdict, "fall too fast");
    }

    [Fact]
    public void Sines_then_cosines_is_named()
    {
        var verdict = Lesson07.SinusoidalTable((l, w) => Sinusoidal(l, w, halves: true));
        AssertNotYet(verdict, "interleaves");
    }

    [Fact]
    public void A_table_cut_from_a_fixed_size_fails_on_other_sizes()
    {
        var fixedTable = Sinusoidal(50, 32);
        var verdict = Lesson07.SinusoidalTable((l, w) => fixedTable[..l, ..w]);
        AssertNotYet(verdict, "length 7, width 8");
    }

    [Fact]
    public void Calling_the_library_table_is_refused()
    {
        var verdict = Lesson07.SinusoidalTable((l, w) => SinusoidalPositionalEncoding.Table(l, w));
        AssertNotYet(verdict, "SinusoidalPositionalEncoding.Table");
    }

    [Fact]
    public void Shift_reference_passes() => AssertPass(Lesson07.ShiftMatrix((w, k) => Rotation(w, k).to_type(ScalarType.Float32)));

    [Fact]
    public void Rotation_matches_the_test_reference() => Assert.True(Exercise.Same(Lesson07.Rotation(12, 7), Rotation(12, 7), 1e-12));

    [Fact]
    public void Calling_the_checkers_own_table_is_refused()
    {
        var verdict = Lesson07.SinusoidalTable((l, w) => Lesson07.Table(l, w));
        AssertNotYet(verdict, "it calls Lesson07.Table");
    }

    [Fact]
    public void Calling_the_checkers_own_rotation_is_refused()
    {
        var verdict = Lesson07.ShiftMatrix((w, k) => Lesson07.Rotation(w, k).to_type(ScalarType.Float32));
        AssertNotYet(verdict, "it calls Lesson07.Rotation");
    }

    [Fact]
    public void Fitting_the_shift_from_the_library_table_is_refused()
    {
        // Least squares R from rows of the library's table: skips the angle-addition idea.
        var verdict = Lesson07.ShiftMatrix((w, k) =>
        {
            var pe = SinusoidalPositionalEncoding.Table(60, w).to_type(ScalarType.Float64);
            int from = Math.Max(0, -k), to = Math.Min(60, 60 - k);
            return linalg.lstsq(pe[from..to], pe[(from + k)..(to + k)]).Item1.T;
        });
        AssertNotYet(verdict, "it calls SinusoidalPositionalEncoding.Table");
    }

    [Fact]
    public void Dividing_the_exponent_by_pairs_minus_one_is_named()
    {
        var verdict = Lesson07.SinusoidalTable((l, w) =>
        {
            var positions = arange(l, dtype: ScalarType.Float64).unsqueeze(1);
            var angles = positions * pow(10000.0, -linspace(0, 1, w / 2, dtype: ScalarType.Float64));
            return stack([angles.sin(), angles.cos()], -1).reshape(l, w);
        });
        AssertNotYet(verdict, "number of pairs minus one");
    }

    [Fact]
    public void The_same_angle_for_every_pair_is_named()
    {
        var verdict = Lesson07.ShiftMatrix((w, k) => Rotation(w, k, (i, _) => k));
        AssertNotYet(verdict, "same angle k");
    }

    [Fact]
    public void Shift_placeholder_fails_naming_the_identity()
    {
        var verdict = Lesson07.ShiftMatrix((w, k) => eye(w));
        AssertNotYet(verdict, "identity");
    }

    [Fact]
    public void The_transposed_rotation_is_named()
    {
        var verdict = Lesson07.ShiftMatrix((w, k) => Rotation(w, k).T);
        AssertNotYet(verdict, "transpose of R_k");
    }

    [Fact]
    public void Frequencies_hard_coded_for_width_16_fail_on_other_widths()
    {
        var verdict = Lesson07.ShiftMatrix((w, k) =>
        {
            var r = zeros(w, w, dtype: ScalarType.Float64);
            for (int i = 0; i < w / 2; i++)
            {
                double angle = Math.Pow(10000, -2.0 * i / 16) * k;
                r[2 * i, 2 * i] = Math.Cos(angle); r[2 * i, 2 * i + 1] = Math.Sin(angle);
                r[2 * i + 1, 2 * i] = -Math.Sin(angle); r[2 * i + 1, 2 * i + 1] = Math.Cos(angle);
            }
            return r;
        });
        AssertNotYet(verdict, "width 8");
        AssertNotYet(verdict, "angle");
    }

    [Fact]
    public void A_rotation_of_the_whole_vector_by_one_angle_is_named()
    {
        // One angle k for every pair, and the pairs taken as (0, d/2), (1, d/2 + 1), …: mixes pairs.
        var verdict = Lesson07.ShiftMatrix((w, k) =>
        {
            var r = eye(w, dtype: ScalarType.Float64);
            int half = w / 2;
            for (int i = 0; i < half; i++)
            {
                r[i, i] = Math.Cos(k); r[i, i + half] = Math.Sin(k);
                r[i + half, i] = -Math.Sin(k); r[i + half, i + half] = Math.Cos(k);
            }
            return r;
        });
        AssertNotYet(verdict, "mixes different sine–cosine pairs");
    }
}
