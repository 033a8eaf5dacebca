using TransformerCourse.Data;
using TransformerCourse.Tests.Notebooks;

namespace TransformerCourse.Tests;

/// <summary>Where tests (which run offline) get Tiny Shakespeare from.</summary>
public static class TestData
{
    /// <summary>
    /// TRANSFORMER_COURSE_DATA_MIRROR when it is set, otherwise the offline copy beside the repository
    /// (../shared/datasets) when there is one, otherwise null (the canonical download).
    /// </summary>
    public static string? Mirror()
    {
        if (Environment.GetEnvironmentVariable(DatasetStore.MirrorVariable) is { Length: > 0 } set) return set;
        var beside = Path.GetFullPath(Path.Combine(ExecutedNotebook.RepoRoot, "..", "shared", "datasets"));
        return Directory.Exists(beside) ? beside : null;
    }
}
