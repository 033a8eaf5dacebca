using Spectre.Console;

namespace TransformerCourse.Cli;

/// <summary><c>course run [notebooks or folders…] [--out DIR]</c>: execute lessons headless, in course order.</summary>
public static class RunCommand
{
    public static async Task<int> ExecuteAsync(string[] args, TextWriter stdout)
    {
        var root = CourseRoot.Find();
        var outDir = Path.Combine(root, "executed");
        var targets = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--out")
            {
                if (i + 1 >= args.Length) throw new ArgumentException("--out needs a folder.", nameof(args));
                outDir = Path.GetFullPath(args[++i]);
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unknown option '{args[i]}' for run.", nameof(args));
            else targets.Add(args[i]);
        }
        var notebooks = CourseRoot.Notebooks(root, targets);
        if (notebooks.Count == 0)
        {
            stdout.WriteLine("No notebooks matched " + string.Join(", ", targets));
            return 2;
        }

        var runner = new NotebookRunner(stdout);
        var results = new List<NotebookResult>();
        for (int i = 0; i < notebooks.Count; i++)
        {
            var relative = Path.GetRelativePath(Path.Combine(root, "notebooks"), notebooks[i]);
            stdout.WriteLine($"[{i + 1}/{notebooks.Count}] {relative}");
            var result = await runner.RunAsync(notebooks[i], Path.Combine(outDir, relative));
            results.Add(result);
            stdout.WriteLine($"    {(result.FirstFailure is null ? "done" : "FAILED")} in {result.Elapsed.TotalSeconds:0.0}s → {Path.GetRelativePath(root, result.ExecutedPath)}");
        }

        var table = new Table().AddColumns("Notebook", "Cells", "Seconds", "Slowest cell", "Result");
        foreach (var r in results)
        {
            var slowest = r.Cells.MaxBy(c => c.Elapsed);
            table.AddRow(
                Markup.Escape(Path.GetFileName(r.Path)),
                r.Cells.Count.ToString(),
                r.Elapsed.TotalSeconds.ToString("0.0"),
                slowest is null ? "-" : $"#{slowest.CodeCellNumber} ({slowest.Elapsed.TotalSeconds:0.0}s)",
                r.FirstFailure is null ? "[green]ok[/]" : $"[red]failed at cell {r.FirstFailure.CodeCellNumber}[/]");
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        console.Write(table);

        var failures = results.Where(r => r.FirstFailure is not null).ToList();
        foreach (var f in failures)
            stdout.WriteLine($"FAILED {Path.GetRelativePath(root, f.Path)}, code cell {f.FirstFailure!.CodeCellNumber}: {f.FirstFailure.Error}");
        stdout.WriteLine($"{results.Count - failures.Count} of {results.Count} notebooks ran without errors in {results.Sum(r => r.Elapsed.TotalSeconds):0.0}s.");
        return failures.Count == 0 ? 0 : 1;
    }
}
