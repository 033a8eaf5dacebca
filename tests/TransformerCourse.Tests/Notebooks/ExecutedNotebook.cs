using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TransformerCourse.Data;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>
/// A lesson executed headless and its executed copy, with helpers to read the outputs: by the course runner
/// (`course run`, started as a child process exactly as the README's main command does) or by real Jupyter
/// with the .NET kernel (<see cref="RunInJupyter"/>), so the same facts can be asserted on both.
/// </summary>
public sealed class ExecutedNotebook
{
    static readonly Dictionary<string, ExecutedNotebook> Cache = [];

    public required string RelativePath { get; init; }
    public required JsonObject Json { get; init; }
    public required string RunnerLog { get; init; }
    public required int ExitCode { get; init; }

    public static string RepoRoot { get; } = FindRoot();

    /// <summary>Lesson 19 checks its prediction against the checkpoint lesson 27 writes to runs/lesson27/.</summary>
    static readonly Dictionary<string, string[]> Prerequisites = new()
    {
        ["04-gpt-decoders/19-scaling-laws.ipynb"] = ["06-capstone-mini-gpt/27-training-on-the-gpu.ipynb"],
    };

    /// <summary>Runs the notebook once per test run (several tests may read the same execution).</summary>
    public static ExecutedNotebook Run(string relativePath)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(relativePath, out var cached)) return cached;
            // A lesson that reads what another lesson writes runs after it, whichever test asks first.
            foreach (var earlier in Prerequisites.GetValueOrDefault(relativePath, [])) Run(earlier);
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

    /// <summary>
    /// Runs the notebook in real Jupyter (`jupyter nbconvert --execute`, kernel .net-csharp, from the notebook's
    /// folder, as a learner's Jupyter does), once per test run. nbconvert stops at the first cell with an error.
    /// </summary>
    public static ExecutedNotebook RunInJupyter(string relativePath)
    {
        lock (Cache)
        {
            var key = "jupyter:" + relativePath;
            if (Cache.TryGetValue(key, out var cached)) return cached;
            var outDir = Path.Combine(Path.GetTempPath(), "course-tests", "jupyter-" + Guid.NewGuid().ToString("N"));
            var notebook = Path.Combine(RepoRoot, "notebooks", relativePath);
            var start = new ProcessStartInfo(Jupyter.Command)
            {
                WorkingDirectory = Path.GetDirectoryName(notebook)!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[] { "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=600",
                         $"--ExecutePreprocessor.kernel_name={Jupyter.KernelName}", "--output-dir", outDir, Path.GetFileName(notebook) })
                start.ArgumentList.Add(a);
            // The kernel is started as `dotnet interactive`, which needs the global tools folder on PATH.
            start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") + Path.PathSeparator + Jupyter.DotnetToolsFolder;
            if (TestData.Mirror() is { } mirror) start.Environment[DatasetStore.MirrorVariable] = mirror;
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var log = process.StandardOutput.ReadToEnd() + stderr.Result;
            process.WaitForExit();
            var executed = Path.Combine(outDir, Path.GetFileName(notebook));
            Assert.True(process.ExitCode == 0 && File.Exists(executed), $"Jupyter could not execute {relativePath} (exit {process.ExitCode}):\n{Tail(log)}");
            var result = new ExecutedNotebook
            {
                RelativePath = relativePath + " (Jupyter)",
                Json = JsonNode.Parse(File.ReadAllText(executed))!.AsObject(),
                RunnerLog = Tail(log),
                ExitCode = process.ExitCode,
            };
            Cache[key] = result;
            return result;
        }
    }

    /// <summary>The lesson template's structure: every cell has a slide type, <paramref name="solutions"/> hidden
    /// solution cells, and the last cell links to <paramref name="nextLink"/>.</summary>
    public void AssertLessonShape(int solutions, string nextLink)
    {
        Assert.All(Cells, c => Assert.NotNull((string?)c["metadata"]?["slideshow"]?["slide_type"]));
        var hidden = Cells.Where(c => c["metadata"]?["tags"]?.AsArray().Any(t => (string?)t == "solution") == true).ToList();
        Assert.Equal(solutions, hidden.Count);
        Assert.All(hidden, c => Assert.True((bool?)c["metadata"]?["jupyter"]?["source_hidden"] == true));
        Assert.Contains(nextLink, string.Concat(Cells.Last()["source"]!.AsArray().Select(l => (string?)l)));
    }

    /// <summary>No code cell prints more lines than a slide holds.</summary>
    public void AssertEveryCellPrintsAtMost(int lines)
    {
        foreach (var cell in Cells.Where(c => (string?)c["cell_type"] == "code"))
        {
            var printed = string.Concat(cell["outputs"]!.AsArray().Where(o => (string?)o!["output_type"] == "stream")
                .Select(o => o!["text"] is JsonArray parts ? string.Concat(parts.Select(l => (string?)l)) : (string?)o["text"]));
            Assert.True(printed.TrimEnd().Split('\n').Length <= lines, printed);
        }
    }

    static string Tail(string log) => log.Length <= 6000 ? log : "…" + log[^6000..];

    public IEnumerable<JsonObject> Cells => Json["cells"]!.AsArray().Select(c => c!.AsObject());

    IEnumerable<JsonObject> Outputs => Cells.SelectMany(c => c["outputs"]?.AsArray().Select(o => o!.AsObject()) ?? []);

    /// <summary>Everything the cells printed (stdout and stderr), in order.</summary>
    public string Printed => string.Concat(Outputs.Where(o => (string?)o["output_type"] == "stream").Select(o => Text(o["text"])));

    /// <summary>
    /// Compiler warnings the kernel showed the learner (they arrive as stderr), except CS1701: the .NET kernel
    /// reports it whenever a cell binds a type from a package built for an older .NET (TorchSharp targets .NET 8),
    /// and no notebook code can suppress it (dotnet/interactive#762, dotnet/roslyn#5501).
    /// </summary>
    public IEnumerable<string> Warnings => Outputs
        .Where(o => (string?)o["output_type"] == "stream" && (string?)o["name"] == "stderr")
        .SelectMany(o => Text(o["text"]).Split('\n'))
        .Where(line => Regex.IsMatch(line, @"\bwarning CS\d{4}\b") && !line.Contains("warning CS1701"));

    /// <summary>nbformat stores multi-line text either as one string or as a list of lines.</summary>
    static string Text(JsonNode? node) => node is JsonArray lines ? string.Concat(lines.Select(l => (string?)l)) : (string?)node ?? "";

    /// <summary>Every text/html output (figures, tables).</summary>
    public IEnumerable<string> Html => Outputs.Where(o => o["data"]?["text/html"] is not null).Select(o => Text(o["data"]!["text/html"]));

    public IEnumerable<string> Errors => Outputs.Where(o => (string?)o["output_type"] == "error").Select(o => (string?)o["evalue"] ?? "");

    /// <summary>Charts of a kind (heatmap, line, bar) that were displayed.</summary>
    public int FigureCount(string kind) => Html.Count(h => h.Contains($"data-kind=\"{kind}\"") && h.Contains("Plotly.newPlot"));

    /// <summary>Asserts the run succeeded: exit code 0, no error output and no compiler warning shown to the learner.</summary>
    public void AssertRanCleanly()
    {
        Assert.True(ExitCode == 0 && !Errors.Any(), $"{RelativePath} failed (exit {ExitCode}):\n{string.Join("\n", Errors)}\n{RunnerLog}");
        Assert.True(!Warnings.Any(), $"{RelativePath} shows the learner warnings:\n{string.Join("\n", Warnings)}");
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
