using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;

namespace TransformerCourse.Cli;

/// <summary>How one code cell went.</summary>
public sealed record CellResult(int Index, int CodeCellNumber, TimeSpan Elapsed, string? Error);

/// <summary>How one notebook went; <see cref="ExecutedPath"/> holds the copy with outputs.</summary>
public sealed record NotebookResult(string Path, string ExecutedPath, TimeSpan Elapsed, IReadOnlyList<CellResult> Cells)
{
    public CellResult? FirstFailure => Cells.FirstOrDefault(c => c.Error is not null);
}

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

    public async Task<NotebookResult> RunAsync(string notebookPath, string executedPath)
    {
        var json = JsonNode.Parse(await File.ReadAllTextAsync(notebookPath))?.AsObject()
            ?? throw new InvalidDataException($"{notebookPath} is not a JSON notebook.");
        var cells = json["cells"]?.AsArray() ?? throw new InvalidDataException($"{notebookPath} has no cells array.");
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
                var error = string.IsNullOrWhiteSpace(source) ? null : await ExecuteAsync(kernel, source, outputs, n + 1);
                watch.Stop();
                cell["execution_count"] = n + 1;
                results.Add(new CellResult(index, n + 1, watch.Elapsed, error));
                log.WriteLine($"    cell {n + 1,2}/{codeCells.Count} {watch.Elapsed.TotalSeconds,6:0.0}s {(error is null ? "ok" : "FAILED")}");
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

    static CompositeKernel CreateKernel()
    {
        var csharp = new CSharpKernel().UseKernelHelpers().UseValueSharing();
        var kernel = new CompositeKernel { csharp }.UseImportMagicCommand();
        kernel.DefaultKernelName = csharp.Name;
        return kernel;
    }

    /// <summary>Runs one cell; returns the error text, or null when it succeeded.</summary>
    static async Task<string?> ExecuteAsync(CompositeKernel kernel, string source, JsonArray outputs, int executionCount)
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
