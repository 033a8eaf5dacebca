using System.Text.Json.Nodes;

namespace TransformerCourse.Tests.Slides;

/// <summary>
/// A small notebook that uses every slide type and output kind, with markers whose place in the deck the
/// tests know exactly. Its first chart carries the real plotly.js bundle inline, as the library's first
/// figure in a notebook does, so the export must replace it with the deck's local copy.
/// </summary>
public static class SyntheticNotebook
{
    public const string Section = "00-slides-test";
    public const string Name = "00-slide-features";
    public const string Title = "Slide Features";
    public const string SkipMarker = "SKIPPED-CELL-MARKER";
    public const string FragmentMarker = "FRAGMENT-MARKER";
    public const string NotesMarker = "SPEAKER-NOTE-MARKER";
    public const string StreamMarker = "STREAM-MARKER";
    public const string ErrorMarker = "ERROR-MARKER";
    public const string HiddenSourceMarker = "HIDDEN-SOURCE-MARKER";
    public const string HiddenOutputMarker = "HIDDEN-SOURCE-OUTPUT";

    /// <summary>Leaf slides: the title with one subslide, the code slide, the last slide.</summary>
    public const int SlideCount = 4;

    /// <summary>
    /// Leaf slides in the browser: the code slide (code, a 400 px chart, the error fragment and the hidden cell's
    /// output) is taller than the canvas, so slides.js continues it on a slide below.
    /// </summary>
    public const int LaidOutSlideCount = 5;

    /// <summary>Writes the source notebook and its "executed" copy; returns the source's path.</summary>
    public static string Write(string notebooksDirectory, string executedDirectory, string plotlyBundle)
    {
        var source = Path.Combine(notebooksDirectory, Section, Name + ".ipynb");
        var executed = Path.Combine(executedDirectory, Section, Name + ".ipynb");
        Directory.CreateDirectory(Path.GetDirectoryName(source)!);
        Directory.CreateDirectory(Path.GetDirectoryName(executed)!);
        File.WriteAllText(source, Build(withOutputs: false, plotlyBundle).ToJsonString());
        File.WriteAllText(executed, Build(withOutputs: true, plotlyBundle).ToJsonString());
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddMinutes(-1));
        return source;
    }

    public const string OverflowName = "00-overflow";
    public const string TinyTextMarker = "TINY-TEXT-MARKER";
    /// <summary>Lines in the overflow deck's long code cell: more than three parts' worth.</summary>
    public const int LongCodeLines = 64;

    /// <summary>
    /// A notebook whose slides cannot all be made to fit: a display formula too wide to set at a legible size
    /// (no \qquad to break it at) and raw HTML with 9 px text; also a code cell of <see cref="LongCodeLines"/>
    /// lines, which the exporter must show whole, legibly, on continuation slides. Returns the source's path.
    /// </summary>
    public static string WriteOverflow(string notebooksDirectory, string executedDirectory)
    {
        var source = Path.Combine(notebooksDirectory, Section, OverflowName + ".ipynb");
        var executed = Path.Combine(executedDirectory, Section, OverflowName + ".ipynb");
        Directory.CreateDirectory(Path.GetDirectoryName(source)!);
        Directory.CreateDirectory(Path.GetDirectoryName(executed)!);
        var wide = string.Join(" + ", Enumerable.Range(1, 40).Select(i => $"x_{{{i}}}^{{2}}"));
        var code = string.Join("\n", Enumerable.Range(1, LongCodeLines).Select(i => i % 9 == 0 ? "" : $"var value{i} = Math.Sqrt({i}.0) * {i}; // LONG-CODE-LINE-{i}"));
        JsonObject Raw() => new()
        {
            ["cell_type"] = "raw",
            ["metadata"] = new JsonObject { ["format"] = "text/html", ["slideshow"] = new JsonObject { ["slide_type"] = "slide" } },
            ["source"] = $"<p style=\"font-size: 9px\">{TinyTextMarker}: far too small for a room.</p>",
        };
        JsonObject Build(bool withOutputs) => new()
        {
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
            ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelInfo"] = new JsonObject { ["defaultKernelName"] = "csharp" } } },
            ["cells"] = new JsonArray(
                Markdown("slide", "# Overflow\n\nSlides that do not fit."),
                Markdown("slide", $"## A formula too wide\n\n$$\\sum = {wide}$$"),
                Code("slide", code, withOutputs ? new JsonArray(Stream("done\n")) : []),
                Raw()),
        };
        File.WriteAllText(source, Build(false).ToJsonString());
        File.WriteAllText(executed, Build(true).ToJsonString());
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddMinutes(-1));
        return source;
    }

    public const string GridName = "00-chart-grid";
    public const int GridPanels = 16;

    /// <summary>
    /// A notebook whose one figure is a grid of <see cref="GridPanels"/> small heatmaps (150 px, with the margins
    /// Charts.HeatmapGrid gives every panel), as lesson 28 draws all 16 heads of its model, after code and printed
    /// text: the deck must lay the grid out to fit a slide (no row runs off it). Returns the source's path.
    /// </summary>
    public static string WriteGrid(string notebooksDirectory, string executedDirectory)
    {
        var source = Path.Combine(notebooksDirectory, Section, GridName + ".ipynb");
        var executed = Path.Combine(executedDirectory, Section, GridName + ".ipynb");
        Directory.CreateDirectory(Path.GetDirectoryName(source)!);
        Directory.CreateDirectory(Path.GetDirectoryName(executed)!);
        var ticks = string.Join(",", Enumerable.Range(0, 20));
        var labels = string.Join(",", "GREMIO:⏎Good␣morrow,".Select(c => $"\"{c}\""));
        var panels = string.Concat(Enumerable.Range(0, GridPanels).Select(i =>
        {
            var z = string.Join(",", Enumerable.Range(0, 20).Select(r => "[" + string.Join(",", Enumerable.Range(0, 20).Select(c => c <= r ? (1.0 / (r + 1)).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) : "0")) + "]"));
            return $"<div id=\"grid-panel-{i}\" style=\"width: 150px; height: 150px;\"></div>\n<script>\n" +
                   $"var data = [{{\"type\":\"heatmap\",\"z\":[{z}],\"colorscale\":\"Blues\",\"reversescale\":true,\"zmin\":0}}];\n" +
                   $"var layout = {{\"title\":\"layer {i / 4 + 1}, head {i % 4 + 1}\",\"width\":150.0,\"height\":150.0,\"margin\":{{\"l\":70.0,\"r\":10.0,\"t\":60.0,\"b\":70.0}}," +
                   $"\"xaxis\":{{\"title\":\"key\",\"tickvals\":[{ticks}],\"ticktext\":[{labels}],\"tickangle\":-45.0}}," +
                   $"\"yaxis\":{{\"title\":\"query\",\"autorange\":\"reversed\",\"tickvals\":[{ticks}],\"ticktext\":[{labels}]}}}};\n" +
                   $"Plotly.newPlot('grid-panel-{i}', data, layout);\n</script>";
        }));
        var figure = "<div class=\"course-figure\" data-kind=\"heatmap\"><div><b>All 16 attention heads of a model on one line</b></div>" +
                     $"<div style=\"display:flex;flex-wrap:wrap;gap:4px\">{panels}</div></div>";
        JsonObject Build(bool withOutputs) => new()
        {
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
            ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelInfo"] = new JsonObject { ["defaultKernelName"] = "csharp" } } },
            ["cells"] = new JsonArray(
                Markdown("slide", "# Chart grid\n\nMany small charts in one figure."),
                Markdown("slide", "## Every head at once\n\nOne figure, sixteen panels, after the code that draws them."),
                Code("-", string.Join("\n", Enumerable.Range(1, 9).Select(i => $"var line{i} = {i}; // the code above the grid")),
                    withOutputs ? new JsonArray(Stream("line: \"GREMIO:⏎Good␣morrow,\" (20 characters)\nprobe check: ok\n"),
                        Display(new JsonObject { ["text/html"] = figure, ["text/plain"] = "Figure" })) : [])),
        };
        File.WriteAllText(source, Build(false).ToJsonString());
        File.WriteAllText(executed, Build(true).ToJsonString());
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddMinutes(-1));
        return source;
    }

    static JsonObject Build(bool withOutputs, string plotlyBundle)
    {
        var figure = "<div class=\"course-figure\" data-kind=\"line\">" +
                     $"<script type=\"text/javascript\">/* plotly.js 2.35.3, MIT licence */\n{plotlyBundle.Replace("</script>", "<\\/script>")}\n</script>" +
                     "<div id=\"synthetic-chart\" style=\"width: 720px; height: 420px;\"></div>\n<script>\n" +
                     "var data = [{\"type\":\"scatter\",\"x\":[1,2,3,4],\"y\":[1,4,9,16],\"name\":\"squares\"}];\n" +
                     "var layout = {\"title\":\"Squares\",\"width\":720.0,\"height\":420.0};\n" +
                     "Plotly.newPlot('synthetic-chart', data, layout);\n</script></div>";
        JsonArray Outputs(params JsonObject[] outputs) => withOutputs ? new JsonArray(outputs) : [];
        return new JsonObject
        {
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["name"] = ".net-csharp", ["display_name"] = ".NET (C#)", ["language"] = "C#" },
                ["polyglot_notebook"] = new JsonObject { ["kernelInfo"] = new JsonObject { ["defaultKernelName"] = "csharp" } },
            },
            ["cells"] = new JsonArray(
                Markdown("slide", $"**A synthetic deck**\n\n# {Title}\n\nInline maths $a_i^2 + b_i^2$ and a link to " +
                                  "[lesson 1](../01-attention-mechanism/01-the-attention-revolution.ipynb)."),
                Code("skip", $"// {SkipMarker}", Outputs(Stream($"{SkipMarker} output\n"))),
                Markdown("subslide", "## Display maths in C#\n\n$$\\operatorname{softmax}(x)_i = \\frac{e^{x_i}}{\\sum_j e^{x_j}}$$"),
                Markdown("fragment", $"{FragmentMarker}: it appears on the next step, with $\\sqrt{{d_k}}$."),
                Markdown("notes", $"{NotesMarker}: say why we divide by $\\sqrt{{d_k}}$."),
                Code("slide", "var squares = new[] { 1, 4, 9, 16 };\nConsole.WriteLine(\"" + StreamMarker + "\");\nsquares",
                    Outputs(Stream(StreamMarker + "\n"), Display(new JsonObject { ["text/html"] = figure, ["text/plain"] = "Figure" }))),
                Code("fragment", $"throw new InvalidOperationException(\"{ErrorMarker}\");",
                    Outputs(new JsonObject { ["output_type"] = "error", ["ename"] = "Error", ["evalue"] = ErrorMarker, ["traceback"] = new JsonArray($"\u001b[31m{ErrorMarker}\u001b[0m") })),
                HiddenCode($"// {HiddenSourceMarker}", Outputs(Stream(HiddenOutputMarker + "\n"))),
                Markdown("slide", "## Last slide\n\n| d | variance |\n| --- | --- |\n| 1 | 1 |\n| 64 | 64 |\n\nWhat costs $5 costs $5."),
                Markdown("-", "Plain text with a table above.")),
        };
    }

    static JsonObject Markdown(string slideType, string source) => new()
    {
        ["cell_type"] = "markdown",
        ["metadata"] = new JsonObject { ["slideshow"] = new JsonObject { ["slide_type"] = slideType } },
        ["source"] = source,
    };

    static JsonObject Code(string slideType, string source, JsonArray outputs) => new()
    {
        ["cell_type"] = "code",
        ["execution_count"] = null,
        ["metadata"] = new JsonObject
        {
            ["slideshow"] = new JsonObject { ["slide_type"] = slideType },
            ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" },
        },
        ["source"] = source,
        ["outputs"] = outputs,
    };

    static JsonObject HiddenCode(string source, JsonArray outputs)
    {
        var cell = Code("-", source, outputs);
        cell["metadata"]!["jupyter"] = new JsonObject { ["source_hidden"] = true };
        return cell;
    }

    static JsonObject Stream(string text) => new() { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = text };

    static JsonObject Display(JsonObject data) => new() { ["output_type"] = "display_data", ["data"] = data, ["metadata"] = new JsonObject() };
}
