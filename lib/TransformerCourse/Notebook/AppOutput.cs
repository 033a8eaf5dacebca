using System.Collections;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Analysis;
using TorchSharp;
using TransformerCourse.Plots;
using static TorchSharp.torch;

namespace TransformerCourse.Notebook;

/// <summary>HTML a cell hands to <c>HTML(...)</c> in a notebook; an exported app writes it to a file.</summary>
public sealed class HtmlContent(string html)
{
    public string Html { get; } = html ?? throw new ArgumentNullException(nameof(html));

    public override string ToString() => Html;
}

/// <summary>What <see cref="AppOutput.Display"/> returns: <see cref="Update"/> replaces the shown value, as a notebook's
/// <c>display(...)</c> handle does (a chart's file is rewritten; text is printed again).</summary>
public sealed class DisplayedValue
{
    internal DisplayedValue(string? file) => File = file;

    /// <summary>The HTML file the value went to (charts and HTML), or null when it was printed.</summary>
    public string? File { get; }

    public void Update(object? value) => AppOutput.Show(value, File);
}

/// <summary>
/// What a lesson exported by <c>course export-apps</c> needs at run time in place of the notebook host: it runs in the
/// notebook's folder (so relative paths in cells mean the same), prints displayed values as text, and writes charts
/// (<see cref="Figure"/>) and HTML as self-contained files next to the app, printing their paths.
/// </summary>
public static class AppOutput
{
    static string launchDirectory = Environment.CurrentDirectory;
    static string? outputFolder;
    static int files;

    /// <summary>The folder charts and HTML go to (<c>&lt;app&gt;.charts/</c> next to the app), set by <see cref="Start"/>.</summary>
    public static string? OutputFolder => outputFolder;

    /// <summary>
    /// First line of every exported app. Moves to <paramref name="notebookFolder"/> (relative to the app's file) as the
    /// notebook kernel runs in the notebook's folder, and empties the app's chart folder of an earlier run's files.
    /// </summary>
    /// <param name="notebookFolder">The notebook's folder, relative to the folder of the app's .cs file.</param>
    /// <param name="appFile">The app's source file; the compiler fills it in.</param>
    public static void Start(string notebookFolder, [CallerFilePath] string appFile = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(notebookFolder);
        // .NET 10 file-based apps report their entry file; the compile-time path is the fallback.
        var app = AppContext.GetData("EntryPointFilePath") as string is { Length: > 0 } entry ? entry : appFile;
        if (string.IsNullOrEmpty(app)) throw new ArgumentException("The app's file path is unknown; pass appFile.", nameof(appFile));
        var appDirectory = Path.GetDirectoryName(Path.GetFullPath(app))!;
        var folder = Path.GetFullPath(Path.Combine(appDirectory, notebookFolder));
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"The lesson's folder {folder} was not found: run the app from its place in the course repository (re-export with `course export-apps`).");
        launchDirectory = Environment.CurrentDirectory;
        Environment.CurrentDirectory = folder;
        outputFolder = Path.Combine(appDirectory, Path.GetFileNameWithoutExtension(app) + ".charts");
        if (Directory.Exists(outputFolder))
            foreach (var old in Directory.EnumerateFiles(outputFolder, "*.html")) System.IO.File.Delete(old);
        files = 0;
    }

    /// <summary>Shows a value as a notebook's <c>display(...)</c> would: text on stdout, charts and HTML as files.</summary>
    /// <param name="mimeTypes">Accepted for the notebook helper's signature; an app always shows text or writes HTML.</param>
    public static DisplayedValue Display(object? value, params string[] mimeTypes) => new(Show(value, null));

    /// <summary>Same as the notebook helper <c>HTML(...)</c>: marks a string as HTML to display.</summary>
    public static HtmlContent Html(string html) => new(html);

    internal static string? Show(object? value, string? file)
    {
        bool fresh = file is null;
        switch (value)
        {
            case Figure figure:
                file ??= NextFile(figure.Title);
                // Each file carries plotly.js itself (or its CDN loader), so it opens on its own.
                Figure.ResetPlotlyLoader();
                WritePage(file, figure.Title, figure.ToHtml());
                Figure.ResetPlotlyLoader();
                if (fresh) Announce(file, $"chart ({figure.Kind}) \"{figure.Title}\"");
                return file;
            case HtmlContent html:
                file ??= NextFile("html");
                WritePage(file, "", html.Html);
                if (fresh) Announce(file, "HTML");
                return file;
            default:
                Console.WriteLine(ToText(value));
                return null;
        }
    }

    /// <summary>The text an app prints for a displayed value: tables for DataFrames, values for small tensors.</summary>
    public static string ToText(object? value) => value switch
    {
        null => "<null>",
        string s => s,
        DataFrame frame => TableText(frame),
        Tensor tensor => TensorText(tensor),
        IFormattable f => f.ToString(null, CultureInfo.CurrentCulture),
        IEnumerable items when value.GetType().GetMethod("ToString", Type.EmptyTypes)?.DeclaringType == typeof(object)
            => "[ " + string.Join(", ", items.Cast<object?>().Take(100).Select(ToText)) + " ]",
        _ => value.ToString() ?? "",
    };

    /// <summary>Shape and type, then the values (up to 400 of them).</summary>
    public static string TensorText(Tensor tensor)
    {
        var header = $"Tensor {Guard.Shape(tensor)} {tensor.dtype} on {tensor.device}";
        if (tensor.NumberOfElements > 400) return header + " (too many values to print)";
        using var cpu = tensor.detach().cpu();
        return header + "\n" + cpu.ToString(TorchSharp.TensorStringStyle.Numpy, fltFormat: "g6", cultureInfo: CultureInfo.InvariantCulture);
    }

    /// <summary>A DataFrame as an aligned text table (first <paramref name="maxRows"/> rows), numbers as the notebook table shows them.</summary>
    public static string TableText(DataFrame frame, int maxRows = 50)
    {
        var rows = new List<string[]> { frame.Columns.Select(c => c.Name).ToArray() };
        for (long r = 0; r < Math.Min(frame.Rows.Count, maxRows); r++)
            rows.Add(frame.Columns.Select(c => Cell(c[r])).ToArray());
        var widths = Enumerable.Range(0, frame.Columns.Count).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        for (int r = 0; r < rows.Count; r++)
        {
            text.Append(string.Join(" | ", rows[r].Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd()).Append('\n');
            if (r == 0) text.AppendJoin("-+-", widths.Select(w => new string('-', w))).Append('\n');
        }
        if (frame.Rows.Count > maxRows) text.Append($"… {frame.Rows.Count - maxRows} more rows\n");
        return text.ToString().TrimEnd('\n');
    }

    static string Cell(object? value) => value switch
    {
        null => "",
        double d => d.ToString(Math.Abs(d) >= 1e5 || (Math.Abs(d) < 1e-3 && d != 0) ? "0.###e+0" : "0.####"),
        float f => Cell((double)f),
        _ => value.ToString() ?? "",
    };

    static string NextFile(string title)
    {
        var folder = outputFolder ?? Path.Combine(launchDirectory, "charts");
        Directory.CreateDirectory(folder);
        var slug = new string(title.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        slug = string.Join('-', slug.Split('-', StringSplitOptions.RemoveEmptyEntries));
        if (slug.Length > 48) slug = slug[..48].TrimEnd('-');
        return Path.Combine(folder, $"{++files:00}{(slug.Length > 0 ? "-" + slug : "")}.html");
    }

    static void WritePage(string file, string title, string body) =>
        System.IO.File.WriteAllText(file,
            $"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{WebUtility.HtmlEncode(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n");

    static void Announce(string file, string what) => Console.WriteLine($"[{what} → {Path.GetRelativePath(launchDirectory, file)}]");
}
