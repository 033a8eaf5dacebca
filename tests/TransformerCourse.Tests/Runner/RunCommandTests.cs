using System.Diagnostics;
using System.Text.Json.Nodes;
using TransformerCourse.Tests.Notebooks;

namespace TransformerCourse.Tests.Runner;

/// <summary>
/// `course run` on files that are not notebooks and on cells that draw compiler warnings, started as its own
/// process exactly as a user runs it. Both runs share one fixture: each starts a C# kernel (seconds).
/// </summary>
public sealed class RunCommandTests(RunCommandTests.Runs runs) : IClassFixture<RunCommandTests.Runs>
{
    /// <summary>One run over three broken files, a clean notebook and one whose cell draws CS8632; one run of the clean notebook alone.</summary>
    public sealed class Runs : IDisposable
    {
        public string Directory { get; } = Path.Combine(Path.GetTempPath(), "course-tests", "runner-" + Guid.NewGuid().ToString("N"));
        public string Out => Path.Combine(Directory, "executed");
        public (int ExitCode, string Log) Mixed { get; }
        public (int ExitCode, string Log) CleanOnly { get; }

        public Runs()
        {
            System.IO.Directory.CreateDirectory(Directory);
            Write("a-invalid-json.ipynb", "{ \"cells\": [ { \"cell_type\": \"code\", ");
            Write("b-no-cells.ipynb", new JsonObject { ["nbformat"] = 4, ["metadata"] = new JsonObject() }.ToJsonString());
            var noSource = Notebook(Cell("Console.WriteLine(1);"), Cell("x"));
            noSource["cells"]![1]!.AsObject().Remove("source");
            Write("c-cell-without-source.ipynb", noSource.ToJsonString());
            Write("d-clean.ipynb", Notebook(Cell("var answer = 6 * 7;"), Cell("Console.WriteLine($\"answer {answer}\");")).ToJsonString());
            Write("e-nullable-warning.ipynb", Notebook(Cell("string? s = null;\nConsole.WriteLine(\"after the warning\");")).ToJsonString());
            Mixed = Run("a-invalid-json.ipynb", "b-no-cells.ipynb", "c-cell-without-source.ipynb", "d-clean.ipynb", "e-nullable-warning.ipynb");
            CleanOnly = Run("d-clean.ipynb");
        }

        public string Executed(string name) => Path.Combine(Out, name);

        void Write(string name, string text) => File.WriteAllText(Path.Combine(Directory, name), text);

        (int, string) Run(params string[] notebooks)
        {
            var cli = Path.Combine(ExecutedNotebook.RepoRoot, "lib", "TransformerCourse.Cli", "bin", BuildConfiguration, "net10.0", "course.dll");
            Assert.True(File.Exists(cli), $"The course command was not built at {cli}.");
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = ExecutedNotebook.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { cli, "run" }.Concat(notebooks.Select(n => Path.Combine(Directory, n))).Concat(["--out", Out])) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var log = process.StandardOutput.ReadToEnd() + stderr.Result;
            process.WaitForExit();
            return (process.ExitCode, log);
        }

        public void Dispose()
        {
            try { System.IO.Directory.Delete(Directory, recursive: true); }
            catch (IOException) { }
        }
    }

    [Fact]
    public void A_file_that_is_not_a_notebook_gets_one_clear_line_and_the_others_still_run()
    {
        var (exit, log) = runs.Mixed;
        Assert.True(exit == 1, $"exit {exit}, expected 1:\n{log}");
        Assert.DoesNotContain("Unhandled exception", log);
        Assert.DoesNotContain("   at ", log); // no stack trace
        // One line each, naming the file and the problem, while running and again in the summary.
        Assert.Contains(Line(log, "a-invalid-json.ipynb"), l => l.Contains("not a notebook: invalid JSON"));
        Assert.Contains(Line(log, "b-no-cells.ipynb"), l => l.Contains("no \"cells\" array"));
        Assert.Contains(Line(log, "c-cell-without-source.ipynb"), l => l.Contains("cell 2 (code) has no \"source\""));
        Assert.Contains("3 could not be read", log);
        Assert.False(File.Exists(runs.Executed("a-invalid-json.ipynb")));
        // The notebooks after the broken ones still ran.
        var clean = JsonNode.Parse(File.ReadAllText(runs.Executed("d-clean.ipynb")))!;
        Assert.Contains("answer 42", clean.ToJsonString());
        Assert.True(File.Exists(runs.Executed("e-nullable-warning.ipynb")), log);
    }

    [Fact]
    public void A_compiler_warning_is_shown_as_stderr_like_Jupyter_and_counts_as_a_problem()
    {
        var (exit, log) = runs.Mixed;
        var executed = JsonNode.Parse(File.ReadAllText(runs.Executed("e-nullable-warning.ipynb")))!;
        var outputs = executed["cells"]![0]!["outputs"]!.AsArray();
        var stderr = outputs.Where(o => (string?)o!["output_type"] == "stream" && (string?)o["name"] == "stderr").Select(o => (string?)o!["text"]).ToList();
        Assert.True(stderr.Count == 1, $"expected one stderr output, got {outputs.ToJsonString()}");
        Assert.Contains("warning CS8632", stderr[0]);
        Assert.Contains("#nullable", stderr[0]);
        // The cell still ran (a warning is not an error) and no error output was recorded.
        Assert.Contains(outputs, o => (string?)o!["name"] == "stdout" && ((string?)o["text"] ?? "").Contains("after the warning"));
        Assert.DoesNotContain(outputs, o => (string?)o!["output_type"] == "error");
        Assert.Contains(Line(log, "e-nullable-warning.ipynb"), l => l.StartsWith("WARNING", StringComparison.Ordinal) && l.Contains("code cell 1") && l.Contains("CS8632"));
        Assert.Contains("1 warning", log);
        Assert.True(exit == 1, $"exit {exit}:\n{log}");
        // The clean notebook draws no stderr output at all.
        var clean = JsonNode.Parse(File.ReadAllText(runs.Executed("d-clean.ipynb")))!;
        Assert.DoesNotContain("stderr", clean.ToJsonString());
    }

    [Fact]
    public void A_clean_notebook_exits_zero()
    {
        var (exit, log) = runs.CleanOnly;
        Assert.True(exit == 0, $"exit {exit}:\n{log}");
        Assert.Contains("1 of 1 notebooks ran without errors or warnings", log);
        Assert.DoesNotContain("WARNING", log);
    }

    static IEnumerable<string> Line(string log, string file) => log.Split('\n').Where(l => l.Contains(file, StringComparison.Ordinal)).Select(l => l.Trim());

    static JsonObject Notebook(params JsonObject[] cells) => new()
    {
        ["nbformat"] = 4,
        ["nbformat_minor"] = 5,
        ["metadata"] = new JsonObject { ["kernelspec"] = new JsonObject { ["name"] = ".net-csharp", ["language"] = "C#" } },
        ["cells"] = new JsonArray(cells),
    };

    static JsonObject Cell(string source) => new()
    {
        ["cell_type"] = "code",
        ["execution_count"] = null,
        ["metadata"] = new JsonObject { ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" } },
        ["source"] = source,
        ["outputs"] = new JsonArray(),
    };

#if DEBUG
    const string BuildConfiguration = "Debug";
#else
    const string BuildConfiguration = "Release";
#endif
}
