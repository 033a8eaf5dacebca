using Microsoft.CodeAnalysis;

namespace TransformerCourse.Cli.Apps;

/// <summary><c>course export-apps [notebooks or folders…] [--out DIR] [--check]</c>: each lesson as a C# file-based app.</summary>
public static class ExportAppsCommand
{
    public static Task<int> ExecuteAsync(string[] args, TextWriter stdout)
    {
        var line = new CommandLine("export-apps", args, valued: new HashSet<string> { "out" }, flags: new HashSet<string> { "check" });
        var root = CourseRoot.Find();
        var outDir = line.Text("out") is { } o ? Path.GetFullPath(o) : Path.Combine(root, "apps");
        var notebooks = CourseRoot.Notebooks(root, line.Positional);
        if (notebooks.Count == 0)
        {
            stdout.WriteLine("No notebooks matched " + string.Join(", ", line.Positional));
            return Task.FromResult(2);
        }

        var exporter = new AppExporter(root, AppReferences.RunningProcess);
        IReadOnlyList<MetadataReference>? compileReferences = line.Has("check") ? AppReferences.ForApps(LibraryOutput(root)) : null;
        int failed = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        foreach (var notebook in notebooks)
        {
            var app = exporter.Export(notebook, exporter.AppPathFor(notebook, outDir));
            Directory.CreateDirectory(Path.GetDirectoryName(app.AppPath)!);
            // Only rewrite what changed, so timestamps (and `dotnet run`'s up-to-date check) stay put.
            if (!File.Exists(app.AppPath) || File.ReadAllText(app.AppPath) != app.Source) File.WriteAllText(app.AppPath, app.Source);
            var t = app.Translation;
            stdout.WriteLine($"{Path.GetRelativePath(root, app.AppPath)}: {t.Chunks.Count} code chunks, {t.Usings.Count} usings hoisted, "
                + $"{t.Chunks.Count(c => c.DisplaysLastValue)} displayed values, {t.Types.Count} types moved, {t.Renames.Count} renames");
            foreach (var r in t.Renames) stdout.WriteLine($"    {r.Label}: {r.From} → {r.To} ({r.Why})");
            foreach (var p in t.Problems) stdout.WriteLine($"    could not bind: {p}");
            if (compileReferences is not null)
            {
                var diagnostics = AppCompiler.Compile(app.Source, compileReferences, app.AppPath);
                var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
                foreach (var d in diagnostics.Take(20)) stdout.WriteLine($"    {d}");
                stdout.WriteLine(errors.Count == 0 ? "    compiles" : $"    DOES NOT COMPILE ({errors.Count} errors)");
                if (errors.Count > 0) failed++;
            }
        }
        stdout.WriteLine($"Exported {notebooks.Count} lesson(s) to {Path.GetRelativePath(root, outDir)}/ in {watch.Elapsed.TotalSeconds:0.0}s"
            + (compileReferences is null ? "." : $"; {notebooks.Count - failed} of {notebooks.Count} compile."));
        stdout.WriteLine($"Run one with: dotnet run {Path.GetRelativePath(root, exporter.AppPathFor(notebooks[0], outDir)).Replace('\\', '/')}");
        return Task.FromResult(failed == 0 ? 0 : 1);
    }

    /// <summary>The course library's newest build folder (what an app's #:project reference builds).</summary>
    static string LibraryOutput(string root)
    {
        var candidates = new[] { "Debug", "Release" }.Select(c => Path.Combine(root, "lib", "TransformerCourse", "bin", c, "net10.0"))
            .Where(d => File.Exists(Path.Combine(d, "TransformerCourse.dll")))
            .OrderByDescending(d => File.GetLastWriteTimeUtc(Path.Combine(d, "TransformerCourse.dll"))).ToList();
        return candidates.FirstOrDefault() ?? throw new FileNotFoundException(
            "--check needs the course library built: dotnet build lib/TransformerCourse");
    }
}
