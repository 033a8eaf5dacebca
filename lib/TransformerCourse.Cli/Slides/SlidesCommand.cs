using System.Text.Json.Nodes;

namespace TransformerCourse.Cli.Slides;

/// <summary>
/// <c>course slides [notebooks or folders…] [--out DIR] [--reuse] [--executed DIR]</c>: execute lessons (or,
/// with --reuse, take their executed copies where there are any) and write one offline reveal.js
/// deck per lesson to DIR/&lt;section&gt;/&lt;lesson&gt;.html, the assets to DIR/assets and an index to DIR/index.html.
/// <c>course read</c> (same options, DIR default reading/) writes the reading edition the same way: each lesson the
/// same deck, opening in reveal.js's scroll view as a page to read, under an index for readers.
/// </summary>
public static class SlidesCommand
{
    /// <param name="reading">True for <c>course read</c>: the reading edition rather than decks.</param>
    public static async Task<int> ExecuteAsync(string[] args, TextWriter stdout, bool reading = false)
    {
        var root = CourseRoot.Find();
        var line = new CommandLine(reading ? "read" : "slides", args, new HashSet<string> { "out", "executed" }, new HashSet<string> { "reuse" });
        var outDir = Path.GetFullPath(line.Text("out") ?? Path.Combine(root, reading ? "reading" : "slides"));
        var kind = reading ? "pages" : "decks";
        var executedDir = Path.GetFullPath(line.Text("executed") ?? Path.Combine(root, "executed"));
        var reuse = line.Has("reuse");
        var targets = line.Positional;
        var notebooks = CourseRoot.Notebooks(root, targets);
        if (notebooks.Count == 0)
        {
            stdout.WriteLine("No notebooks matched " + string.Join(", ", targets));
            return 2;
        }

        var assets = SlideAssets.Install(root, outDir);
        NotebookRunner? runner = null;
        var failed = new List<string>();
        var failedNotebooks = new HashSet<string>();
        for (int i = 0; i < notebooks.Count; i++)
        {
            var notebook = notebooks[i];
            // Lessons sit at notebooks/<section>/<lesson>.ipynb: executed copies and decks mirror that.
            var section = Path.GetFileName(Path.GetDirectoryName(notebook))!;
            var name = Path.GetFileNameWithoutExtension(notebook);
            var executed = Path.Combine(executedDir, section, name + ".ipynb");
            stdout.WriteLine($"[{i + 1}/{notebooks.Count}] {section}/{name}");
            var before = failed.Count;

            if (reuse && File.Exists(executed))
            {
                var stale = File.GetLastWriteTimeUtc(executed) < File.GetLastWriteTimeUtc(notebook);
                stdout.WriteLine($"    reusing {Path.GetRelativePath(root, executed)}{(stale ? " (older than the notebook: run without --reuse to refresh it)" : "")}");
            }
            else
            {
                if (reuse) stdout.WriteLine("    no executed copy: running it");
                runner ??= new NotebookRunner(stdout);
                NotebookResult result;
                try
                {
                    result = await runner.RunAsync(notebook, executed);
                }
                catch (InvalidNotebookException e)
                {
                    failed.Add(e.Message);
                    stdout.WriteLine("    SKIPPED " + e.Message);
                    failedNotebooks.Add(notebook);
                    continue;
                }
                if (result.FirstFailure is { } failure)
                {
                    failed.Add($"{section}/{name}, code cell {failure.CodeCellNumber}: {failure.Error}");
                    stdout.WriteLine($"    FAILED at code cell {failure.CodeCellNumber} (the deck shows the error)");
                }
                else stdout.WriteLine($"    ran in {result.Elapsed.TotalSeconds:0.0}s");
                foreach (var cell in result.Warned)
                    foreach (var warning in cell.Warnings)
                    {
                        failed.Add($"{section}/{name}, code cell {cell.CodeCellNumber}: {warning}");
                        stdout.WriteLine($"    WARNING code cell {cell.CodeCellNumber}: {warning}");
                    }
            }

            JsonObject json;
            try
            {
                json = NotebookRunner.Load(executed, await File.ReadAllTextAsync(executed));
            }
            catch (InvalidNotebookException e)
            {
                failed.Add(e.Message);
                stdout.WriteLine("    SKIPPED " + e.Message);
                failedNotebooks.Add(notebook);
                continue;
            }
            var deckPath = Path.Combine(outDir, section, name + ".html");
            var deck = SlideDeckWriter.Write(json, notebook, deckPath, assets, reading ? Path.Combine(outDir, "index.html") : null);
            Directory.CreateDirectory(Path.GetDirectoryName(deckPath)!);
            var temp = deckPath + ".tmp";
            await File.WriteAllTextAsync(temp, deck.Html);
            File.Move(temp, deckPath, overwrite: true);
            if (failed.Count > before) failedNotebooks.Add(notebook);
            stdout.WriteLine($"    {deck.SlideCount} slides{(deck.UsesPlotly ? ", with charts" : "")} → {Path.GetRelativePath(root, deckPath)}");
        }

        var index = SlideIndexWriter.Write(root, outDir, reading);
        stdout.WriteLine($"{notebooks.Count - failedNotebooks.Count} of {notebooks.Count} {kind} written without errors or warnings; index: {Path.GetRelativePath(root, index)}");
        foreach (var f in failed) stdout.WriteLine("FAILED " + f);
        return failed.Count == 0 ? 0 : 1;
    }
}
