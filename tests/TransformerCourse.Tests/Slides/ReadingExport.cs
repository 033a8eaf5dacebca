namespace TransformerCourse.Tests.Slides;

/// <summary>
/// Builds the reading edition once for its tests: <c>course read --reuse</c> on every lesson notebook that exists
/// and the synthetic ones, started as its own process exactly as a user (or the Pages workflow) runs it.
/// Executed lessons come from <see cref="TransformerCourse.Tests.Notebooks.ExecutedNotebook"/>, shared with the deck tests.
/// </summary>
public sealed class ReadingExport : IDisposable
{
    public string WorkDirectory { get; }
    public string ReadingDirectory { get; }
    public string Log { get; }
    public int ExitCode { get; }

    /// <summary>Lesson notebooks, relative to notebooks/.</summary>
    public IReadOnlyList<string> Lessons { get; }

    public ReadingExport()
    {
        WorkDirectory = Path.Combine(Path.GetTempPath(), "course-tests", "reading-" + Guid.NewGuid().ToString("N"));
        ReadingDirectory = Path.Combine(WorkDirectory, "reading");
        (Lessons, Log, ExitCode) = SlideExport.Export("read", WorkDirectory, ReadingDirectory);
    }

    public string PagePath(string lesson) => Path.Combine(ReadingDirectory, Path.ChangeExtension(lesson, ".html"));

    public string SyntheticPagePath => Path.Combine(ReadingDirectory, SyntheticNotebook.Section, SyntheticNotebook.Name + ".html");

    public string GridPagePath => Path.Combine(ReadingDirectory, SyntheticNotebook.Section, SyntheticNotebook.GridName + ".html");

    public string IndexPath => Path.Combine(ReadingDirectory, "index.html");

    public IEnumerable<string> AllPages => Lessons.Select(PagePath).Append(SyntheticPagePath).Append(GridPagePath);

    public void Dispose()
    {
        try { Directory.Delete(WorkDirectory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
