using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TransformerCourse.Data;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>
/// A lesson executed by the course runner (`course run`, started as a child process exactly as the
/// README's main command does) and its executed copy, with helpers to read the outputs.
/// </summary>
public sealed class ExecutedNotebook
{
    static readonly Dictionary<string, ExecutedNotebook> Cache = [];

    public required string RelativePath { get; init; }
    public required JsonObject Json { get; init; }
    public required string RunnerLog { get; init; }
    public required int ExitCode { get; init; }

    public static string RepoRoot { get; } = FindRoot();

    /// <summary>Runs the notebook once per test run (several tests may read the same execution).</summary>
    public static ExecutedNotebook Run(string relativePath)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(relativePath, out var cached)) return cached;
            var outDir = Path.Combine(Path.GetTempPath(), "course-tests", Guid.NewGuid().ToString("N"));
            var runner = Path.Combine(RepoRoot, "lib", "TransformerCourse.Cli", "bin", BuildConfiguration, "net10.0", "course.dll");
            Assert.True(File.Exists(runner), $"The runner was not built at {runner}.");
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { runner, "run", Path.Combine("notebooks", relativePath), "--out", outDir }) start.ArgumentList.Add(a);
            if (TestData.Mirror() is { } mirror) start.Environment[DatasetStore.MirrorVariable] = mirror;
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var log = process.StandardOutput.ReadToEnd() + stderr.Result;
            process.WaitForExit();
            var executed = Path.Combine(outDir, relativePath);
            Assert.True(File.Exists(executed), $"No executed copy of {relativePath}. Runner output:\n{log}");
            var result = new ExecutedNotebook
            {
                RelativePath = relativePath,
                Json = JsonNode.Parse(File.ReadAllText(executed))!.AsObject(),
                RunnerLog = log,
                ExitCode = process.ExitCode,
            };
            Cache[relativePath] = result;
            return result;
        }
    }

    public IEnumerable<JsonObject> Cells => Json["cells"]!.AsArray().Select(c => c!.AsObject());

    IEnumerable<JsonObject> Outputs => Cells.SelectMany(c => c["outputs"]?.AsArray().Select(o => o!.AsObject()) ?? []);

    /// <summary>Everything the cells printed (stdout and stderr), in order.</summary>
    public string Printed => string.Concat(Outputs.Where(o => (string?)o["output_type"] == "stream").Select(o => (string?)o["text"]));

    /// <summary>Every text/html output (figures, tables).</summary>
    public IEnumerable<string> Html => Outputs.Select(o => (string?)o["data"]?["text/html"]).OfType<string>();

    public IEnumerable<string> Errors => Outputs.Where(o => (string?)o["output_type"] == "error").Select(o => (string?)o["evalue"] ?? "");

    /// <summary>Charts of a kind (heatmap, line, bar) that were displayed.</summary>
    public int FigureCount(string kind) => Html.Count(h => h.Contains($"data-kind=\"{kind}\"") && h.Contains("Plotly.newPlot"));

    /// <summary>Asserts the run succeeded: exit code 0 and no error output.</summary>
    public void AssertRanCleanly()
    {
        Assert.True(ExitCode == 0 && !Errors.Any(), $"{RelativePath} failed (exit {ExitCode}):\n{string.Join("\n", Errors)}\n{RunnerLog}");
    }

    /// <summary>The number captured by the first group of <paramref name="pattern"/> in the printed text.</summary>
    public double Number(string pattern)
    {
        var m = Regex.Match(Printed, pattern);
        Assert.True(m.Success, $"'{pattern}' not found in what {RelativePath} printed:\n{Printed}");
        return double.Parse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public int Count(string text) => Regex.Matches(Printed, Regex.Escape(text)).Count;

#if DEBUG
    const string BuildConfiguration = "Debug";
#else
    const string BuildConfiguration = "Release";
#endif

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "notebooks")) && Directory.Exists(Path.Combine(dir.FullName, "lib")))
                return dir.FullName;
        throw new DirectoryNotFoundException("Repository root not found above " + AppContext.BaseDirectory);
    }
}
