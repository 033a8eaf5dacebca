using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;

namespace TransformerCourse.Cli;

/// <summary>How one code cell went: its error (null if none) and the compiler warnings it showed.</summary>
public sealed record CellResult(int Index, int CodeCellNumber, TimeSpan Elapsed, string? Error)
{
    /// <summary>Warnings as the compiler formats them, e.g. <c>(1,7): warning CS8632: …</c>.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>How one notebook went; <see cref="ExecutedPath"/> holds the copy with outputs.</summary>
public sealed record NotebookResult(string Path, string ExecutedPath, TimeSpan Elapsed, IReadOnlyList<CellResult> Cells)
{
    public CellResult? FirstFailure => Cells.FirstOrDefault(c => c.Error is not null);

    /// <summary>Cells whose code drew compiler warnings (Jupyter shows them to the learner).</summary>
    public IEnumerable<CellResult> Warned => Cells.Where(c => c.Warnings.Count > 0);

    /// <summary>True when no cell failed and none drew a warning.</summary>
    public bool Clean => FirstFailure is null && !Warned.Any();
}

/// <summary>A file that cannot be run as a notebook; the message names the file and what is wrong with it.</summary>
public sealed class InvalidNotebookException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Executes a C# notebook in-process, cell by cell, in a fresh kernel, and writes an executed copy in
/// nbformat 4 with every cell's original metadata (slide types!) kept and the outputs filled in.
/// The .ipynb is edited as JSON rather than round-tripped through a document model, so nothing the
/// runner does not understand is lost.
/// </summary>
public sealed class NotebookRunner(TextWriter log)
{
    /// <summary>Stop at the first failing cell (the rest would fail too, and slowly).</summary>
    public bool StopOnError { get; init; } = true;

    /// <exception cref="InvalidNotebookException">The file is not an nbformat 4 notebook this runner can execute;
    /// nothing was run and no executed copy was written.</exception>
    public async Task<NotebookResult> RunAsync(string notebookPath, string executedPath)
    {
        var json = Load(notebookPath, await File.ReadAllTextAsync(notebookPath));
        var cells = json["cells"]!.AsArray();
        var codeCells = cells.Select((c, i) => (Cell: c!.AsObject(), Index: i)).Where(c => (string?)c.Cell["cell_type"] == "code").ToList();

        var previousDirectory = Environment.CurrentDirectory;
        Environment.CurrentDirectory = Path.GetDirectoryName(Path.GetFullPath(notebookPath))!;
        var results = new List<CellResult>();
        var total = Stopwatch.StartNew();
        try
        {
            using var kernel = CreateKernel();
            bool failed = false;
            for (int n = 0; n < codeCells.Count; n++)
            {
                var (cell, index) = codeCells[n];
                var outputs = new JsonArray();
                cell["outputs"] = outputs;
                cell["execution_count"] = null;
                if (failed)
                {
                    results.Add(new CellResult(index, n + 1, TimeSpan.Zero, "skipped after an earlier failure"));
                    continue;
                }
                var source = Source(cell);
                var watch = Stopwatch.StartNew();
                var warnings = new List<string>();
                var error = string.IsNullOrWhiteSpace(source) ? null : await ExecuteAsync(kernel, source, outputs, n + 1, warnings);
                watch.Stop();
                cell["execution_count"] = n + 1;
                results.Add(new CellResult(index, n + 1, watch.Elapsed, error) { Warnings = warnings });
                var verdict = error is not null ? "FAILED" : warnings.Count > 0 ? $"ok, {warnings.Count} warning{(warnings.Count == 1 ? "" : "s")}" : "ok";
                log.WriteLine($"    cell {n + 1,2}/{codeCells.Count} {watch.Elapsed.TotalSeconds,6:0.0}s {verdict}");
                failed = error is not null && StopOnError;
            }
        }
        finally
        {
            Environment.CurrentDirectory = previousDirectory;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(executedPath))!);
        var temp = executedPath + ".tmp";
        await File.WriteAllTextAsync(temp, json.ToJsonString(new() { WriteIndented = true }));
        File.Move(temp, executedPath, overwrite: true);
        return new NotebookResult(notebookPath, executedPath, total.Elapsed, results);
    }

    /// <summary>
    /// Parses and checks a notebook before anything runs: valid JSON, an object with a <c>cells</c> array whose
    /// entries are objects with a <c>cell_type</c>, and a <c>source</c> (string or list of strings) on every
    /// code and markdown cell, as nbformat 4 requires.
    /// </summary>
    public static JsonObject Load(string path, string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text, documentOptions: new() { AllowTrailingCommas = false, CommentHandling = System.Text.Json.JsonCommentHandling.Disallow });
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidNotebookException($"{path}: not a notebook: invalid JSON ({e.Message})", e);
        }
        if (node is not JsonObject json) throw new InvalidNotebookException($"{path}: not a notebook: the JSON is not an object with a \"cells\" array");
        if (json["cells"] is not JsonArray cells) throw new InvalidNotebookException($"{path}: not a notebook: no \"cells\" array");
        for (int i = 0; i < cells.Count; i++)
        {
            if (cells[i] is not JsonObject cell) throw new InvalidNotebookException($"{path}: cell {i + 1} is not a JSON object");
            var type = cell["cell_type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
            if (type is null) throw new InvalidNotebookException($"{path}: cell {i + 1} has no \"cell_type\"");
            if (type is "code" or "markdown" or "raw" && !IsText(cell["source"]))
                throw new InvalidNotebookException($"{path}: cell {i + 1} ({type}) has no \"source\" (a string or a list of strings)");
        }
        return json;
    }

    static bool IsText(JsonNode? node) => node switch
    {
        JsonValue v => v.TryGetValue<string>(out _),
        JsonArray lines => lines.All(l => l is JsonValue v && v.TryGetValue<string>(out _)),
        _ => false,
    };

    static CompositeKernel CreateKernel()
    {
        var csharp = new CSharpKernel().UseKernelHelpers().UseValueSharing();
        var kernel = new CompositeKernel { csharp }.UseImportMagicCommand();
        kernel.DefaultKernelName = csharp.Name;
        return kernel;
    }

    /// <summary>Runs one cell; returns the error text, or null when it succeeded. Compiler warnings go to <paramref name="warnings"/>.</summary>
    static async Task<string?> ExecuteAsync(CompositeKernel kernel, string source, JsonArray outputs, int executionCount, List<string> warnings)
    {
        string? error = null;
        var displays = new Dictionary<string, JsonObject>(); // value id → output, so updates replace in place
        var claimed = new HashSet<JsonObject>();
        // Cells imported with #!import report through the kernel's event stream, not the command result.
        using var subscription = kernel.KernelEvents.Subscribe(e =>
        {
            switch (e)
            {
                case StandardOutputValueProduced o: AppendStream(outputs, "stdout", Text(o)); break;
                case StandardErrorValueProduced o: AppendStream(outputs, "stderr", Text(o)); break;
                case ReturnValueProduced r: outputs.Add(Display("execute_result", r, executionCount)); break;
                case DisplayedValueUpdated u:
                    // The update's id does not always match the id of the display it updates, so an
                    // unknown id binds to the latest display not yet claimed by another update.
                    var target = u.ValueId is { } uid && displays.TryGetValue(uid, out var known) ? known
                        : displays.Values.Except(claimed).LastOrDefault();
                    if (target is null)
                    {
                        outputs.Add(Display("display_data", u, null));
                        break;
                    }
                    if (u.ValueId is { } newId) displays[newId] = target;
                    claimed.Add(target);
                    target["data"] = Display("display_data", u, null)["data"]!.DeepClone();
                    break;
                case DisplayedValueProduced d:
                    var shown = Display("display_data", d, null);
                    outputs.Add(shown);
                    displays[d.ValueId ?? Guid.NewGuid().ToString()] = shown;
                    break;
                case DiagnosticsProduced d:
                    // Jupyter (dotnet-interactive's ExecuteRequestHandler) prints a cell's diagnostics, warnings
                    // included, to stderr, spaced by blank lines; the learner sees them, so the executed copy shows them too.
                    var formatted = d.FormattedDiagnostics.Select(v => v.Value)
                        .Where(v => !string.IsNullOrWhiteSpace(v) && !HostOnly.Any(code => v.Contains(code, StringComparison.Ordinal))).ToList();
                    if (formatted.Count > 0)
                        AppendStream(outputs, "stderr", "\n" + string.Join("\n\n", formatted) + "\n\n");
                    warnings.AddRange(d.Diagnostics.Where(x => x.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Warning && !HostOnly.Contains(x.Code)).Select(x => $"({x.LinePositionSpan.Start.Line + 1},{x.LinePositionSpan.Start.Character + 1}): warning {x.Code}: {x.Message}"));
                    break;
                case ErrorProduced p: error ??= p.Message; break;
                case CommandFailed f when f.Command is SubmitCode: error ??= f.Message; break;
            }
        });
        var result = await kernel.SendAsync(new SubmitCode(source));
        if (error is null && result.Events.OfType<CommandFailed>().FirstOrDefault() is { } failure) error = failure.Message;
        if (error is not null)
        {
            outputs.Add(new JsonObject
            {
                ["output_type"] = "error",
                ["ename"] = "Error",
                ["evalue"] = error,
                ["traceback"] = new JsonArray(error),
            });
        }
        return error;
    }

    /// <summary>
    /// Assembly-unification notices (CS1701, CS1702) about this program's own references (TorchSharp built against
    /// .NET 8 here, say): the .NET SDK hides them by default and Jupyter's kernel does not show them.
    /// </summary>
    static readonly string[] HostOnly = ["CS1701", "CS1702"];

    static string Source(JsonObject cell) => cell["source"] switch
    {
        JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
        JsonValue v => (string?)v ?? "",
        _ => "",
    };

    static string Text(DisplayEvent e) => e.FormattedValues.FirstOrDefault(v => v.MimeType == "text/plain")?.Value ?? e.Value?.ToString() ?? "";

    static void AppendStream(JsonArray outputs, string name, string text)
    {
        if (outputs.LastOrDefault() is JsonObject last && (string?)last["output_type"] == "stream" && (string?)last["name"] == name)
        {
            last["text"] = (string?)last["text"] + text;
            return;
        }
        outputs.Add(new JsonObject { ["output_type"] = "stream", ["name"] = name, ["text"] = text });
    }

    static JsonObject Display(string type, DisplayEvent e, int? executionCount)
    {
        var data = new JsonObject();
        foreach (var value in e.FormattedValues) data[value.MimeType] = value.Value;
        var output = new JsonObject { ["output_type"] = type, ["data"] = data, ["metadata"] = new JsonObject() };
        if (executionCount is not null) output["execution_count"] = executionCount;
        return output;
    }
}
