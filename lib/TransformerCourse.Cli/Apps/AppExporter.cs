using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace TransformerCourse.Cli.Apps;

/// <summary>One lesson as a .NET 10 C# file-based app: its source and what the translation changed.</summary>
public sealed record ExportedApp(string NotebookPath, string AppPath, string Source, Translation Translation);

/// <summary>
/// Writes a lesson notebook as one C# file runnable with <c>dotnet run lesson.cs</c>: <c>#:project</c> references the
/// course library, markdown cells become comments, code cells run in order (see <see cref="CellTranslator"/>), and
/// <c>TransformerCourse.Notebook.AppOutput</c> stands in for the notebook host at run time. Same input, same bytes.
/// </summary>
public sealed class AppExporter(string repoRoot, IReadOnlyList<MetadataReference> references)
{
    /// <summary>MSBuild properties every app sets: notebook cells compile with nullable off and no implicit usings (the
    /// kernel's own usings are written out); warnings that only come from turning script fields into locals are off.</summary>
    public static readonly IReadOnlyList<string> Properties =
    [
        "PublishAot=false",
        "ImplicitUsings=disable",
        "Nullable=disable",
        "TreatWarningsAsErrors=false",
        "NoWarn=$(NoWarn);CS0168;CS0219;CS8321",
    ];

    public string RepoRoot { get; } = Path.GetFullPath(repoRoot);

    /// <summary>Where the app for <paramref name="notebookPath"/> goes: its path under notebooks/, mirrored under <paramref name="outDir"/>.</summary>
    public string AppPathFor(string notebookPath, string outDir)
    {
        var notebooks = Path.Combine(RepoRoot, "notebooks");
        var relative = Path.GetRelativePath(notebooks, Path.GetFullPath(notebookPath));
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)) relative = Path.GetFileName(notebookPath);
        return Path.Combine(Path.GetFullPath(outDir), Path.ChangeExtension(relative, ".cs"));
    }

    public ExportedApp Export(string notebookPath, string appPath)
    {
        notebookPath = Path.GetFullPath(notebookPath);
        appPath = Path.GetFullPath(appPath);
        var cells = LessonDocument.ReadNotebook(notebookPath);
        var notebookFolder = Path.GetDirectoryName(notebookPath)!;
        var appFolder = Path.GetDirectoryName(appPath)!;

        // Code cells as chunks; a cell's #!import of a .dib brings that file's C# cells in its place.
        var chunks = new List<CodeChunk>();
        var chunkOfCell = new Dictionary<int, List<int>>();
        for (int c = 0; c < cells.Count; c++)
        {
            if (!cells[c].IsCode) continue;
            var list = chunkOfCell[c] = [];
            var label = $"code cell {cells[c].CodeNumber}" + (cells[c].Tags.Count > 0 ? $" ({string.Join(", ", cells[c].Tags)})" : "");
            var pending = new List<string>();
            void Flush(string suffix = "")
            {
                if (pending.Any(l => l.Trim().Length > 0)) { list.Add(chunks.Count); chunks.Add(new CodeChunk(label + suffix, string.Join('\n', pending))); }
                pending.Clear();
            }
            foreach (var line in cells[c].Source.Split('\n'))
            {
                var import = Regex.Match(line.Trim(), @"^#!import\s+""?([^""]+\.dib)""?$");
                var dib = import.Success ? Path.GetFullPath(Path.Combine(notebookFolder, import.Groups[1].Value)) : null;
                if (dib is null || !File.Exists(dib)) { pending.Add(line); continue; }
                Flush();
                var name = Path.GetRelativePath(notebookFolder, dib).Replace('\\', '/');
                foreach (var code in LessonDocument.ReadDibCSharp(dib))
                {
                    list.Add(chunks.Count);
                    chunks.Add(new CodeChunk($"{label}: #!import {name}", code, IsSetup: true));
                }
            }
            Flush();
        }

        var translation = CellTranslator.Translate(chunks, references);
        var text = new StringBuilder();
        string Rel(string from, string to) => Path.GetRelativePath(from, to).Replace('\\', '/');

        text.Append($"#:project {Rel(appFolder, Path.Combine(RepoRoot, "lib", "TransformerCourse"))}\n");
        foreach (var property in Properties) text.Append($"#:property {property}\n");
        foreach (var package in translation.Packages) text.Append($"#:package {package}\n");
        text.Append('\n');

        var title = cells.Where(c => c.IsMarkdown).SelectMany(c => c.Source.Split('\n'))
            .FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim() ?? Path.GetFileNameWithoutExtension(notebookPath);
        var notebookName = IsUnder(notebookPath, RepoRoot) ? Rel(RepoRoot, notebookPath) : Path.GetFileName(notebookPath);
        var appName = IsUnder(appPath, RepoRoot) ? Rel(RepoRoot, appPath) : Path.GetFileName(appPath);
        text.Append($"// {title}\n");
        text.Append($"// The lesson notebook {notebookName} as a C# file-based app (.NET 10), written by `course export-apps`.\n");
        text.Append("// Edit the notebook and export again rather than editing this file.\n");
        text.Append($"// Run it from the repository root: dotnet run {appName}\n");
        text.Append("// Markdown cells are comments, code cells run in order; what a cell displays is printed, and charts are\n");
        text.Append($"// written as HTML files to {Path.GetFileNameWithoutExtension(appPath)}.charts/ next to this file (their paths are printed).\n");
        text.Append('\n');

        var usings = CellTranslator.KernelUsings.Select(u => $"using {u};").Concat(translation.Usings).ToList();
        if (!usings.Contains("using TransformerCourse.Notebook;")) usings.Add("using TransformerCourse.Notebook;");
        foreach (var u in usings.Distinct()) text.Append(u).Append('\n');
        text.Append('\n');
        text.Append("// Cells run in the notebook's folder, so relative paths in them mean what they mean in the notebook.\n");
        text.Append($"AppOutput.Start(notebookFolder: \"{Rel(appFolder, notebookFolder)}\");\n");

        for (int c = 0; c < cells.Count; c++)
        {
            var cell = cells[c];
            if (cell.IsMarkdown)
            {
                var lines = cell.Source.TrimEnd('\n').Split('\n').Select(l => l.TrimEnd());
                text.Append('\n');
                foreach (var line in lines) text.Append(line.Length == 0 ? "//\n" : $"// {line}\n");
            }
            else if (cell.IsCode)
            {
                string? header = null;
                foreach (var index in chunkOfCell[c])
                {
                    var chunk = translation.Chunks[index];
                    if (chunk.Chunk.Label != header)
                    {
                        text.Append($"\n// ---- {header = chunk.Chunk.Label} ----\n");
                        if (chunk.Chunk.IsSetup)
                            text.Append("// The setup, less the notebook host's part: #:project builds and references the library, and AppOutput\n"
                                + "// prints displayed values and writes charts (the notebook registers formatters for that).\n");
                    }
                    foreach (var r in translation.Renames.Where(r => r.Chunk == index))
                        text.Append($"// Renamed here: {r.From} → {r.To} ({r.Why}).\n");
                    if (chunk.DisplaysLastValue) text.Append("// The notebook displays this cell's last value; the app prints it (charts: to a file).\n");
                    if (chunk.Body.Length > 0) text.Append(chunk.Body).Append('\n');
                }
            }
        }

        if (translation.Types.Count > 0)
        {
            text.Append("\n// ---- Types declared in the notebook's cells (a C# file puts them after its top-level statements) ----\n");
            foreach (var type in translation.Types) text.Append('\n').Append(type).Append('\n');
        }
        return new ExportedApp(notebookPath, appPath, text.ToString(), translation);
    }

    static bool IsUnder(string path, string folder)
    {
        var relative = Path.GetRelativePath(folder, path);
        return !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative);
    }
}
