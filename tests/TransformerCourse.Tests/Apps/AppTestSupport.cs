using System.Diagnostics;
using Microsoft.CodeAnalysis;
using TransformerCourse.Data;
using TransformerCourse.Tests.Notebooks;

namespace TransformerCourse.Tests.Apps;

/// <summary>Shared pieces of the app export tests: references to compile apps against, where test apps go, running one.</summary>
public static class AppTestSupport
{
#if DEBUG
    const string Configuration = "Debug";
#else
    const string Configuration = "Release";
#endif

    static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(() =>
        Cli.Apps.AppReferences.ForApps(Path.Combine(ExecutedNotebook.RepoRoot, "lib", "TransformerCourse", "bin", Configuration, "net10.0")));

    /// <summary>The .NET reference assemblies and the course library's build folder: what `dotnet build app.cs` uses.</summary>
    public static IReadOnlyList<MetadataReference> AppReferences => References.Value;

    /// <summary>Test apps go under artifacts/ (ignored by git) inside the repository, so they see its Directory.*.props as apps/ does.</summary>
    public static string OutputFolder { get; } = Path.Combine(ExecutedNotebook.RepoRoot, "artifacts", "app-tests");

    /// <summary>`dotnet run APP.cs` from the repository root; returns exit code and stdout (stderr appended on failure).</summary>
    public static (int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed) Run(string appPath)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = ExecutedNotebook.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "run", "--file", appPath }) start.ArgumentList.Add(a);
        if (TestData.Mirror() is { } mirror) start.Environment[DatasetStore.MirrorVariable] = mirror;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result, watch.Elapsed);
    }
}
