using Spectre.Console;

namespace TransformerCourse.Cli;

/// <summary>
/// <c>course run [notebooks or folders…] [--out DIR]</c>: execute lessons headless, in course order. A file that is
/// not a notebook gets one line saying what is wrong and the others still run; the exit code is 1 when any
/// notebook could not be read, had a failing cell or drew a compiler warning (Jupyter shows those to the learner).
/// </summary>
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
        var unreadable = new List<string>();
        for (int i = 0; i < notebooks.Count; i++)
        {
            var relative = Path.GetRelativePath(Path.Combine(root, "notebooks"), notebooks[i]);
            // A notebook outside notebooks/ keeps its own name rather than climbing out of --out.
            if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)) relative = Path.GetFileName(notebooks[i]);
            stdout.WriteLine($"[{i + 1}/{notebooks.Count}] {relative}");
            NotebookResult result;
            try
            {
                result = await runner.RunAsync(notebooks[i], Path.Combine(outDir, relative));
            }
            catch (InvalidNotebookException e)
            {
                stdout.WriteLine("    SKIPPED " + e.Message);
                unreadable.Add(e.Message);
                continue;
            }
            results.Add(result);
            var verdict = result.FirstFailure is not null ? "FAILED" : result.Warned.Any() ? "done, with compiler warnings," : "done";
            stdout.WriteLine($"    {verdict} in {result.Elapsed.TotalSeconds:0.0}s → {Path.GetRelativePath(root, result.ExecutedPath)}");
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
                r.FirstFailure is not null ? $"[red]failed at cell {r.FirstFailure.CodeCellNumber}[/]"
                : r.Warned.Any() ? $"[yellow]{r.Warned.Sum(c => c.Warnings.Count)} warning(s)[/]" : "[green]ok[/]");
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        console.Write(table);

        var failures = results.Where(r => r.FirstFailure is not null).ToList();
        foreach (var f in failures)
            stdout.WriteLine($"FAILED {Path.GetRelativePath(root, f.Path)}, code cell {f.FirstFailure!.CodeCellNumber}: {f.FirstFailure.Error}");
        foreach (var r in results)
            foreach (var cell in r.Warned)
                foreach (var warning in cell.Warnings)
                    stdout.WriteLine($"WARNING {Path.GetRelativePath(root, r.Path)}, code cell {cell.CodeCellNumber}: {warning}");
        foreach (var u in unreadable) stdout.WriteLine("SKIPPED " + u);
        var clean = results.Count(r => r.Clean);
        stdout.WriteLine($"{clean} of {notebooks.Count} notebooks ran without errors or warnings in {results.Sum(r => r.Elapsed.TotalSeconds):0.0}s" +
                         $"{(unreadable.Count > 0 ? $"; {unreadable.Count} could not be read" : "")}.");
        return clean == notebooks.Count ? 0 : 1;
    }
}
