using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using TransformerCourse.Cli;
using TransformerCourse.Cli.Apps;
using TransformerCourse.Tests.Notebooks;

namespace TransformerCourse.Tests.Apps;

/// <summary><c>course export-apps</c>: every lesson becomes a C# file-based app that compiles; one app per section runs
/// and prints what the notebook prints.</summary>
public class AppExportTests
{
    static string Root => ExecutedNotebook.RepoRoot;

    static readonly AppExporter Exporter = new(Root, AppReferences.RunningProcess);

    static ExportedApp Export(string notebookPath)
    {
        var app = Exporter.Export(notebookPath, Exporter.AppPathFor(notebookPath, AppTestSupport.OutputFolder));
        Directory.CreateDirectory(Path.GetDirectoryName(app.AppPath)!);
        File.WriteAllText(app.AppPath, app.Source);
        return app;
    }

    /// <summary>A cheap stand-in for `dotnet build` of every app (which costs ~10 s each): a Roslyn compile in memory
    /// against the same assemblies. Exporting all lessons takes a few seconds each (binding every cell).</summary>
    [Fact]
    public void Every_lesson_exports_to_an_app_that_compiles()
    {
        var notebooks = CourseRoot.Notebooks(Root, []);
        Assert.True(notebooks.Count >= 14, $"only {notebooks.Count} lesson notebooks found");
        var failures = new List<string>();
        foreach (var notebook in notebooks)
        {
            var app = Export(notebook);
            Assert.StartsWith("#:project ../../../lib/TransformerCourse\n", app.Source);
            Assert.Contains("\nAppOutput.Start(notebookFolder: \"../../../notebooks/", app.Source);
            Assert.Contains("\nvar courseEnvironment = Course.Setup(seed: 0);\nConsole.WriteLine(courseEnvironment);\n", app.Source);
            Assert.DoesNotContain("\n#!", app.Source);
            Assert.DoesNotContain("Formatter.Register", app.Source);
            var errors = AppCompiler.Compile(app.Source, AppTestSupport.AppReferences, app.AppPath).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (errors.Count > 0) failures.Add($"{Path.GetFileName(notebook)}:\n  " + string.Join("\n  ", errors.Take(10)));
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Export_is_deterministic()
    {
        var notebook = CourseRoot.Notebooks(Root, [])[0];
        var first = Exporter.Export(notebook, Exporter.AppPathFor(notebook, AppTestSupport.OutputFolder)).Source;
        var again = new AppExporter(Root, AppReferences.RunningProcess).Export(notebook, Exporter.AppPathFor(notebook, AppTestSupport.OutputFolder)).Source;
        Assert.Equal(first, again);
    }

    [Fact]
    public void A_notebook_becomes_comments_setup_cells_in_order_and_types_at_the_end()
    {
        var folder = Path.Combine(AppTestSupport.OutputFolder, "synthetic", "notebooks", "01-section");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(Root, "notebooks", "course-setup.dib"), Path.Combine(folder, "..", "course-setup.dib"), overwrite: true);
        var notebook = Path.Combine(folder, "01-synthetic.ipynb");
        JsonObject Cell(string kind, string source, params string[] tags) => new()
        {
            ["cell_type"] = kind,
            ["metadata"] = new JsonObject { ["tags"] = new JsonArray(tags.Select(t => (JsonNode)t).ToArray()) },
            ["source"] = new JsonArray(source.Split('\n').Select(l => (JsonNode)l).ToArray()),
        };
        var cells = new JsonArray(
            Cell("markdown", "# A synthetic lesson\n\nSome *prose*."),
            Cell("code", "#!import ../course-setup.dib"),
            Cell("code", "record Pair(int A, int B);\nvar pair = new Pair(2, 3);\npair.A * pair.B"),
            Cell("code", "int Answer() => 0; // TODO"),
            Cell("code", "Exercise.Check(\"your answer\", \"multiply\", () => Exercise.Expect(Answer() == 6, \"not the product\"));", "check"),
            Cell("code", "int Answer() => pair.A * pair.B;\nExercise.Check(\"your answer\", \"multiply\", () => Exercise.Expect(Answer() == 6, \"not the product\"));", "solution"));
        // nbformat stores lines with their newlines.
        foreach (var cell in cells)
        {
            var lines = cell!["source"]!.AsArray().Select(l => (string)l!).ToList();
            cell["source"] = new JsonArray(lines.Select((l, i) => (JsonNode)(i < lines.Count - 1 ? l + "\n" : l)).ToArray());
        }
        File.WriteAllText(notebook, new JsonObject { ["cells"] = cells, ["nbformat"] = 4, ["nbformat_minor"] = 5 }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var app = Exporter.Export(notebook, Path.Combine(AppTestSupport.OutputFolder, "synthetic", "apps", "01-section", "01-synthetic.cs"));
        var s = app.Source;
        Assert.StartsWith("#:project ../../../../../lib/TransformerCourse\n", s);
        Assert.Contains("\n// # A synthetic lesson\n//\n// Some *prose*.\n", s);
        Assert.Contains("AppOutput.Start(notebookFolder: \"../../notebooks/01-section\");", s);
        int Index(string text)
        {
            int i = s.IndexOf(text, StringComparison.Ordinal);
            Assert.True(i >= 0, $"'{text}' missing from\n{s}");
            return i;
        }
        // In order: usings, start, prose, setup, cells (placeholder, check, renamed solution), then the type.
        Assert.True(Index("using TransformerCourse.Exercises;") < Index("AppOutput.Start(") && Index("AppOutput.Start(") < Index("// # A synthetic lesson")
            && Index("// # A synthetic lesson") < Index("Course.Setup(seed: 0)") && Index("Course.Setup(seed: 0)") < Index("var pair = new Pair(2, 3);")
            && Index("AppOutput.Display(pair.A * pair.B);") < Index("int Answer() => 0; // TODO")
            && Index("int Answer() => 0; // TODO") < Index("Expect(Answer() == 6")
            && Index("Expect(Answer() == 6") < Index("int Answer_2() => pair.A * pair.B;")
            && Index("int Answer_2() => pair.A * pair.B;") < Index("Expect(Answer_2() == 6")
            && Index("Expect(Answer_2() == 6") < Index("\nrecord Pair(int A, int B);"), s);
        Assert.Contains("// ---- code cell 5 (solution) ----\n// Renamed here: Answer → Answer_2", s);
        Assert.DoesNotContain("Building the course library", s);
        var errors = AppCompiler.Compile(s, AppTestSupport.AppReferences).Where(d => d.Severity == DiagnosticSeverity.Error);
        Assert.Empty(errors);
    }

    /// <summary>Lines of speeds and progress (they differ from run to run), and the line the notebook's setup prints when
    /// it rebuilds the library (an app's #:project builds it instead).</summary>
    static bool Ignored(string line) => Regex.IsMatch(line, @"ms/step|tokens/s|GFLOP/s|elapsed|ETA")
        || line.StartsWith("Building the course library", StringComparison.Ordinal);

    /// <summary>A wall-clock time such as "13.1 s" or "40 ms": masked, so that the rest of its line (lesson 22 prints
    /// each model's held-out accuracy after its training time) is still compared.</summary>
    static readonly Regex Seconds = new(@"\d+(?:\.\d+)?\s?(?:ms|s)\b");

    static List<string> Lines(string text) => text.Replace("\r\n", "\n").Split('\n').Select(l => l.TrimEnd())
        .Where(l => l.Length > 0 && !Ignored(l)).Select(l => Seconds.Replace(l, "<time>")).ToList();

    /// <summary>One fast lesson per section: the app prints every line the notebook prints (timings aside), in order,
    /// and writes one chart file per chart the notebook shows.</summary>
    [Theory]
    [InlineData("01-attention-mechanism/02-scaled-dot-product-attention.ipynb")]
    [InlineData("02-transformer-architecture/07-positional-encoding.ipynb")]
    [InlineData("03-bert-encoders/12-tokenization-and-embeddings.ipynb")]
    [InlineData("04-gpt-decoders/16-causal-language-modelling.ipynb")]
    [InlineData("05-modern-variants/22-vision-transformers.ipynb")]
    [InlineData("06-capstone-mini-gpt/26-building-mini-gpt.ipynb")]
    public void The_app_prints_what_the_notebook_prints(string lesson)
    {
        var notebook = ExecutedNotebook.Run(lesson);
        notebook.AssertRanCleanly();
        var app = Export(Path.Combine(Root, "notebooks", lesson));
        var run = AppTestSupport.Run(app.AppPath);
        Assert.True(run.ExitCode == 0, $"dotnet run {app.AppPath} exited {run.ExitCode}:\n{run.Stdout}\n{run.Stderr}");

        var expected = Lines(string.Concat(notebook.Cells.SelectMany(c => c["outputs"]?.AsArray() ?? [])
            .Where(o => (string?)o!["output_type"] == "stream" && (string?)o["name"] == "stdout")
            .Select(o => o!["text"] is JsonArray a ? string.Concat(a.Select(x => (string?)x)) : (string?)o!["text"])));
        var actual = Lines(run.Stdout);
        Assert.True(expected.Count >= 10, $"the notebook printed only {expected.Count} lines");
        int at = 0;
        foreach (var line in expected)
        {
            int found = actual.IndexOf(line, at);
            Assert.True(found >= 0, $"The app did not print (in order) the notebook's line\n  {line}\nApp output from there:\n{string.Join('\n', actual.Skip(at).Take(40))}");
            at = found + 1;
        }
        int charts = notebook.Html.Count(h => h.Contains("class=\"course-figure\""));
        var written = Regex.Matches(run.Stdout, @"^\[chart \(\w[\w+]*\) "".*"" → (.+\.html)\]$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(charts, written.Count);
        Assert.All(written, f => Assert.Contains("<script", File.ReadAllText(Path.Combine(Root, f))));
    }
}
