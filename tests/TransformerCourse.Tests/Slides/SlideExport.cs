using System.Diagnostics;
using TransformerCourse.Tests.Notebooks;

namespace TransformerCourse.Tests.Slides;

/// <summary>
/// Exports decks once for all slide tests: every lesson notebook that exists (executed through
/// <see cref="ExecutedNotebook"/>, so lessons run once per test run however many tests read them) plus the
/// <see cref="SyntheticNotebook"/>, with <c>course slides --reuse</c> started as its own process, exactly as
/// a user runs it.
/// </summary>
public sealed class SlideExport : IDisposable
{
    public string WorkDirectory { get; }
    public string SlidesDirectory { get; }
    public string Log { get; }
    public int ExitCode { get; }

    /// <summary>Lesson notebooks, relative to notebooks/ (e.g. 01-attention-mechanism/01-the-attention-revolution.ipynb).</summary>
    public IReadOnlyList<string> Lessons { get; }

    public SlideExport()
    {
        WorkDirectory = Path.Combine(Path.GetTempPath(), "course-tests", "slides-" + Guid.NewGuid().ToString("N"));
        SlidesDirectory = Path.Combine(WorkDirectory, "slides");
        (Lessons, Log, ExitCode) = Export("slides", WorkDirectory, SlidesDirectory);
    }

    /// <summary>
    /// Writes executed copies of every lesson and the synthetic notebooks under <paramref name="workDirectory"/>,
    /// then runs <c>course <paramref name="command"/> … --reuse --executed … --out <paramref name="outDirectory"/></c>
    /// on all of them as its own process. Returns the lessons (relative to notebooks/), the command's output and exit code.
    /// </summary>
    public static (IReadOnlyList<string> Lessons, string Log, int ExitCode) Export(string command, string workDirectory, string outDirectory)
    {
        var root = ExecutedNotebook.RepoRoot;
        var executed = Path.Combine(workDirectory, "executed");
        var notebooks = Path.Combine(root, "notebooks");

        var lessons = Directory.EnumerateFiles(notebooks, "*.ipynb", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(notebooks, p).Replace('\\', '/'))
            .Where(p => p.Split('/') is [var section, var file] && IsNumbered(section) && IsNumbered(file))
            .Order(StringComparer.Ordinal).ToList();
        // For working on the decks alone: COURSE_SLIDES_EXECUTED names a folder of executed copies (course run --out)
        // to take instead of running every lesson again. CI leaves it unset.
        var reuse = Environment.GetEnvironmentVariable("COURSE_SLIDES_EXECUTED");
        foreach (var lesson in lessons)
        {
            var copy = Path.Combine(executed, lesson);
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            var earlier = string.IsNullOrEmpty(reuse) ? null : Path.Combine(reuse, lesson);
            if (earlier is not null && File.Exists(earlier)) File.Copy(earlier, copy, overwrite: true);
            else File.WriteAllText(copy, ExecutedNotebook.Run(lesson).Json.ToJsonString());
        }
        var plotly = File.ReadAllText(Path.Combine(root, "node_modules", "plotly.js-dist-min", "plotly.min.js"));
        var synthetic = SyntheticNotebook.Write(Path.Combine(workDirectory, "notebooks"), executed, plotly);
        var overflow = SyntheticNotebook.WriteOverflow(Path.Combine(workDirectory, "notebooks"), executed);
        var grid = SyntheticNotebook.WriteGrid(Path.Combine(workDirectory, "notebooks"), executed);

        var cli = Path.Combine(root, "lib", "TransformerCourse.Cli", "bin", BuildConfiguration, "net10.0", "course.dll");
        Assert.True(File.Exists(cli), $"The course command was not built at {cli}.");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { cli, command }.Concat(lessons.Select(l => Path.Combine("notebooks", l))).Append(synthetic).Append(overflow).Append(grid)
                     .Concat(["--reuse", "--executed", executed, "--out", outDirectory]))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var log = process.StandardOutput.ReadToEnd() + stderr.Result;
        process.WaitForExit();
        return (lessons, log, process.ExitCode);
    }

    public string DeckPath(string lesson) => Path.Combine(SlidesDirectory, Path.ChangeExtension(lesson, ".html"));

    public string SyntheticDeckPath => Path.Combine(SlidesDirectory, SyntheticNotebook.Section, SyntheticNotebook.Name + ".html");

    /// <summary>The deck built to fail the legibility check (not among <see cref="AllDecks"/>).</summary>
    public string OverflowDeckPath => Path.Combine(SlidesDirectory, SyntheticNotebook.Section, SyntheticNotebook.OverflowName + ".html");

    /// <summary>The deck of many small charts in one figure (<see cref="SyntheticNotebook.WriteGrid"/>).</summary>
    public string GridDeckPath => Path.Combine(SlidesDirectory, SyntheticNotebook.Section, SyntheticNotebook.GridName + ".html");

    public IEnumerable<string> AllDecks => Lessons.Select(DeckPath).Append(SyntheticDeckPath).Append(GridDeckPath);

    /// <summary>Removes the exported decks (screenshots stay in TestResults/slides).</summary>
    public void Dispose()
    {
        try { Directory.Delete(WorkDirectory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public static bool IsNumbered(string name) => name.Length > 2 && char.IsDigit(name[0]) && char.IsDigit(name[1]) && name[2] == '-';

#if DEBUG
    const string BuildConfiguration = "Debug";
#else
    const string BuildConfiguration = "Release";
#endif
}
