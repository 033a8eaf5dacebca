using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Notebook;

/// <summary>
/// OBSOLETE — being replaced by <see cref="Exercises.Exercise"/> and the per-lesson checkers in Exercises/.
/// Exercise checks: each prints one line, "PASS" or "NOT YET" with a hint, and returns whether it
/// passed. They never print the expected answer.
/// </summary>
public static class Check
{
    public const string PassMark = Exercises.Exercise.PassMark;
    public const string FailMark = Exercises.Exercise.FailMark;

    public static bool Close(double actual, double expected, double tolerance, string hint, string what = "your value")
    {
        bool ok = !double.IsNaN(actual) && Math.Abs(actual - expected) <= tolerance;
        return Report(ok, what, hint);
    }

    public static bool Close(Tensor? actual, Tensor expected, double tolerance, string hint, string what = "your tensor")
    {
        if (actual is null) return Report(false, what, "it is still null. " + hint);
        if (!actual.shape.SequenceEqual(expected.shape))
            return Report(false, what, $"its shape is {Guard.Shape(actual)}, which is not the shape we expect. {hint}");
        using var a = actual.to_type(ScalarType.Float64).cpu();
        using var e = expected.to_type(ScalarType.Float64).cpu();
        bool ok = a.allclose(e, rtol: 0, atol: tolerance, equal_nan: false);
        return Report(ok, what, hint);
    }

    public static bool Equal<T>(T actual, T expected, string hint, string what = "your answer")
        => Report(EqualityComparer<T>.Default.Equals(actual, expected), what, hint);

    public static bool True(bool condition, string hint, string what = "your code")
        => Report(condition, what, hint);

    static bool Report(bool ok, string what, string hint)
    {
        Console.WriteLine(ok ? $"{PassMark}: {what} is right." : $"{FailMark}: {what} is not right yet. Hint: {hint}");
        return ok;
    }
}
