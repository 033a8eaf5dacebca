using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Exercises;

/// <summary>What a checker concluded about one answer: passed or not, and the line the learner reads.</summary>
public sealed record Verdict(bool Passed, string Feedback)
{
    public override string ToString() => Feedback;
}

/// <summary>Thrown by a checker (or by a rebuilt library routine) when an answer is not right yet;
/// the message names the mistake in the learner's terms.</summary>
public sealed class NotYetException(string diagnosis) : Exception(diagnosis);

/// <summary>
/// The one pattern every exercise check follows. A lesson's checker (in <c>Exercises/LessonNN.cs</c>) calls
/// <see cref="Check"/> with a body that probes the learner's code and stops at the first problem it finds
/// with <see cref="Expect(bool, string)"/> and friends. The learner sees one line: PASS, or NOT YET with the
/// diagnosis and a hint that points to the idea (never the code or the formula of the answer).
/// </summary>
public static class Exercise
{
    public const string PassMark = "✅ PASS";
    public const string FailMark = "❌ NOT YET";

    /// <summary>Runs <paramref name="body"/>, prints the verdict and returns it.</summary>
    /// <param name="what">What is being checked, e.g. "your SlidingWindowMask".</param>
    /// <param name="hint">Where to look when it is not right yet: the idea or the cell to revisit.</param>
    public static Verdict Check(string what, string hint, Action body)
    {
        string? problem;
        try
        {
            using var scope = NewDisposeScope();
            body();
            problem = null;
        }
        catch (NotYetException e) { problem = e.Message; }
        catch (NotImplementedException) { problem = "it still throws NotImplementedException: replace the placeholder with your code."; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problem = $"running it threw {e.GetType().Name}: {FirstLine(e.Message)}";
        }
        var verdict = problem is null
            ? new Verdict(true, $"{PassMark}: {what} is right.")
            : new Verdict(false, $"{FailMark}: {what} — {problem} Hint: {hint}");
        Console.WriteLine(verdict.Feedback);
        return verdict;
    }

    /// <summary>Stops the check with <paramref name="diagnosis"/> unless <paramref name="condition"/> holds.</summary>
    public static void Expect(bool condition, string diagnosis)
    {
        if (!condition) throw new NotYetException(diagnosis);
    }

    /// <summary>Stops the check unless <paramref name="actual"/> is within <paramref name="tolerance"/> of <paramref name="expected"/>.</summary>
    public static void ExpectClose(double actual, double expected, double tolerance, string diagnosis)
        => Expect(double.IsFinite(actual) && Math.Abs(actual - expected) <= tolerance, diagnosis);

    /// <summary>Stops the check when the answer is missing or has the wrong shape; the message names both shapes.</summary>
    public static Tensor ExpectShape(Tensor? actual, long[] shape, string name)
    {
        Expect(actual is not null, $"{name} is still null.");
        Expect(actual!.shape.SequenceEqual(shape), $"{name} has shape {Guard.Shape(actual)}, expected [{string.Join(", ", shape)}].");
        return actual;
    }

    /// <summary>True when the two tensors have the same shape and agree within <paramref name="tolerance"/>.</summary>
    public static bool Same(Tensor a, Tensor b, double tolerance = 1e-5)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var x = a.detach().to_type(ScalarType.Float64).cpu();
        using var y = b.detach().to_type(ScalarType.Float64).cpu();
        return x.allclose(y, rtol: 0, atol: tolerance);
    }

    /// <summary>
    /// Runs <paramref name="run"/> (the learner's code) while the library routines named in
    /// <paramref name="routines"/> refuse to run: an exercise that asks for a rebuild cannot pass by calling
    /// the original. The routines announce themselves through <see cref="RebuiltRoutines.Enter"/>.
    /// </summary>
    public static T Forbidding<T>(string[] routines, Func<T> run) => RebuiltRoutines.Forbidding(routines, run);

    static string FirstLine(string text) => text.Split('\n')[0].Trim();
}

/// <summary>
/// Library routines that an exercise asks the learner to write call <see cref="Enter"/> first. Outside an
/// exercise check this does nothing; inside <see cref="Exercise.Forbidding"/> it stops the check.
/// </summary>
public static class RebuiltRoutines
{
    static readonly AsyncLocal<string[]?> Forbidden = new();

    public static void Enter(string routine)
    {
        if (Forbidden.Value is { } names && names.Contains(routine))
            throw new NotYetException($"it calls {routine}, the library routine this exercise asks you to write yourself.");
    }

    internal static T Forbidding<T>(string[] routines, Func<T> run)
    {
        var before = Forbidden.Value;
        Forbidden.Value = [.. before ?? [], .. routines];
        try { return run(); }
        finally { Forbidden.Value = before; }
    }
}
