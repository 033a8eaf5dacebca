using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TransformerCourse.Cli.Slides;

/// <summary>
/// Turns an executed notebook into a reveal.js deck, following the cells' <c>slideshow.slide_type</c>:
/// <c>slide</c> starts a horizontal slide, <c>subslide</c> a vertical one below it, <c>fragment</c> appears
/// on the next step, <c>notes</c> become speaker notes, <c>skip</c> is left out and <c>-</c> continues the
/// current slide (or fragment). Markdown keeps its TeX for KaTeX; code is marked up for reveal.js's highlight plugin.
/// </summary>
public static partial class SlideDeckWriter
{
    /// <summary>One leaf slide. As in Jupyter, a <c>-</c> cell after a fragment joins that fragment.</summary>
    sealed class Slide
    {
        bool fragmentOpen;

        public StringBuilder Body { get; } = new();
        public StringBuilder Notes { get; } = new();

        public void Add(string html, bool startsFragment)
        {
            if (startsFragment)
            {
                if (fragmentOpen) Body.Append("</div>\n");
                Body.Append("<div class=\"fragment\">");
                fragmentOpen = true;
            }
            Body.Append(html).Append('\n');
        }

        public void Close()
        {
            if (fragmentOpen) Body.Append("</div>\n");
            fragmentOpen = false;
        }
    }

    /// <param name="notebook">The executed notebook (nbformat 4).</param>
    /// <param name="notebookPath">Where the source notebook lives (relative links start there).</param>
    /// <param name="deckPath">Where the deck will be written.</param>
    /// <param name="assetsDirectory">The folder <see cref="SlideAssets"/> filled.</param>
    /// <param name="readingIndex">
    /// For the reading edition (<c>course read</c>): the index page the lesson page links back to. The page then
    /// opens in reveal.js's scroll view (<c>&lt;html data-view="scroll"&gt;</c>, see slides.js) under a bar linking
    /// the index and the same page as a deck (<c>?view=slides</c>). Null for a deck.
    /// </param>
    public static SlideDeck Write(JsonObject notebook, string notebookPath, string deckPath, string assetsDirectory, string? readingIndex = null)
    {
        var deckDirectory = Path.GetDirectoryName(Path.GetFullPath(deckPath))!;
        var links = new LinkRewriter(Path.GetDirectoryName(Path.GetFullPath(notebookPath))!, deckDirectory);
        var outputs = new OutputRenderer(links);
        var language = DefaultLanguage(notebook);
        var cells = notebook["cells"]?.AsArray().OfType<JsonObject>().ToList() ?? [];

        var stacks = new List<List<Slide>>();
        Slide Current()
        {
            if (stacks.Count == 0) stacks.Add([new Slide()]);
            return stacks[^1][^1];
        }
        foreach (var cell in cells)
        {
            var type = SlideTypes.Of(cell);
            if (type == SlideType.Skip) continue;
            var html = RenderCell(cell, links, outputs, language);
            switch (type)
            {
                case SlideType.Slide:
                    stacks.Add([new Slide()]);
                    break;
                case SlideType.Subslide:
                    if (stacks.Count == 0) stacks.Add([]);
                    stacks[^1].Add(new Slide());
                    break;
            }
            if (html.Length == 0) continue;
            var slide = Current();
            if (type == SlideType.Notes) slide.Notes.Append(html);
            else slide.Add(html, startsFragment: type == SlideType.Fragment);
        }

        var title = Title(cells) ?? Path.GetFileNameWithoutExtension(notebookPath);
        var lesson = Regex.Match(Path.GetFileName(notebookPath), @"^(\d+)-") is { Success: true } m ? int.Parse(m.Groups[1].Value) : (int?)null;
        var label = lesson is >= 1 and <= 28 ? $"Lesson {lesson} · {title}" : title;
        var assets = Path.GetRelativePath(deckDirectory, assetsDirectory).Replace('\\', '/');
        var body = new StringBuilder();
        for (int h = 0; h < stacks.Count; h++)
        {
            var stack = stacks[h];
            if (stack.Count == 1) AppendSlide(body, stack[0], h == 0 ? "title-slide" : null);
            else
            {
                body.Append("<section>\n");
                for (int v = 0; v < stack.Count; v++) AppendSlide(body, stack[v], h == 0 && v == 0 ? "title-slide" : null);
                body.Append("</section>\n");
            }
        }
        var nav = readingIndex is null ? null : ReadingNav(HtmlText.Encode(label),
            Path.GetRelativePath(deckDirectory, Path.GetFullPath(readingIndex)).Replace('\\', '/'));
        var document = Template(HtmlText.Encode(label), assets, outputs.UsesPlotly, body.ToString(), nav);
        return new SlideDeck(title, document, stacks.Sum(s => s.Count), outputs.UsesPlotly);
    }

    static void AppendSlide(StringBuilder html, Slide slide, string? cssClass)
    {
        html.Append(cssClass is null ? "<section>\n" : $"<section class=\"{cssClass}\">\n");
        slide.Close();
        html.Append("<div class=\"slide-fit\">\n").Append(slide.Body).Append("</div>\n");
        if (slide.Notes.Length > 0) html.Append("<aside class=\"notes\">\n").Append(slide.Notes).Append("</aside>\n");
        html.Append("</section>\n");
    }

    static string RenderCell(JsonObject cell, LinkRewriter links, OutputRenderer outputs, string language)
    {
        var source = OutputRenderer.Text(cell["source"]);
        switch ((string?)cell["cell_type"])
        {
            case "markdown":
                return string.IsNullOrWhiteSpace(source) ? "" : $"<div class=\"cell markdown\">\n{links.RewriteHtml(MarkdownRenderer.ToHtml(source))}</div>";
            case "code":
                var jupyter = cell["metadata"]?["jupyter"];
                var showSource = (bool?)jupyter?["source_hidden"] != true && !string.IsNullOrWhiteSpace(source);
                var rendered = (bool?)jupyter?["outputs_hidden"] == true ? "" : outputs.Render(cell["outputs"] as JsonArray);
                if (!showSource && rendered.Length == 0) return "";
                var code = source.Trim('\n', '\r');
                var parts = showSource ? CodeParts(code) : [];
                // Code beside its chart reads better on a wide slide than code above a chart (one part only).
                var split = parts.Count == 1 && code.Split('\n').Length >= SplitLines && HasPicture(rendered);
                var html = new StringBuilder(split ? "<div class=\"cell code split\">" : "<div class=\"cell code\">");
                foreach (var part in parts)
                    html.Append(parts.Count == 1 ? "<pre class=\"input\">" : "<pre class=\"input part\">")
                        .Append($"<code class=\"language-{CellLanguage(cell, language)}\">")
                        .Append(HtmlText.Encode(part)).Append("</code></pre>");
                if (rendered.Length > 0) html.Append("<div class=\"outputs\">").Append(rendered).Append("</div>");
                return html.Append("</div>").ToString();
            case "raw":
                var format = (string?)cell["metadata"]?["format"] ?? (string?)cell["metadata"]?["raw_mimetype"];
                return format is "text/html" ? source : "";
            default:
                return "";
        }
    }

    /// <summary>Code cells at least this long sit beside their chart rather than above it.</summary>
    const int SplitLines = 8;

    /// <summary>
    /// The most source lines one code block shows: at the deck's code size (16.8 px, line height 1.35) this many
    /// lines, with a heading, fill a 1280 x 720 slide. Longer cells are cut into parts of at most this many lines.
    /// </summary>
    public const int CodePartLines = 20;

    /// <summary>
    /// How slides stay legible (the design; README paragraph in the integrator's hands): nothing is ever shrunk
    /// below 14 px on a 1280 x 720 screen. A code cell longer than <see cref="CodePartLines"/> lines is cut here
    /// into consecutive <c>pre.input.part</c> blocks, preferably at a blank line, so the whole cell stays on the
    /// slides, in order, at full size. In the browser, slides.js then measures every slide: what does not fit
    /// (clear of the footer) moves, from the first cell, part or paragraph that runs past the bottom, to a new
    /// vertical slide below it headed "… (continued)"; only what still does not fit is shrunk, floored at the
    /// legible size. Speaker notes stay on the first slide of the run.
    /// </summary>
    public static List<string> CodeParts(string code)
    {
        var lines = code.Split('\n');
        var parts = new List<string>();
        int start = 0;
        while (lines.Length - start > CodePartLines)
        {
            // Cut after the last blank line in the part's second half, else at the limit.
            int end = start + CodePartLines;
            for (int i = end - 1; i > start + CodePartLines / 2; i--)
                if (string.IsNullOrWhiteSpace(lines[i])) { end = i + 1; break; }
            parts.Add(string.Join('\n', lines[start..end]).TrimEnd('\n', '\r', ' '));
            start = end;
            while (start < lines.Length && string.IsNullOrWhiteSpace(lines[start])) start++;
        }
        if (start < lines.Length) parts.Add(string.Join('\n', lines[start..]));
        return parts;
    }

    static bool HasPicture(string outputs) =>
        outputs.Contains("Plotly.newPlot", StringComparison.Ordinal) || outputs.Contains("class=\"output image\"", StringComparison.Ordinal);

    /// <summary>The first level-1 heading of the first markdown cell.</summary>
    static string? Title(IEnumerable<JsonObject> cells)
    {
        var first = cells.FirstOrDefault(c => (string?)c["cell_type"] == "markdown");
        if (first is null) return null;
        var heading = Heading().Match(OutputRenderer.Text(first["source"]));
        return heading.Success ? heading.Groups[1].Value.Trim() : null;
    }

    static string DefaultLanguage(JsonObject notebook) =>
        Highlighter((string?)notebook["metadata"]?["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]
                    ?? (string?)notebook["metadata"]?["kernelspec"]?["language"]) ?? "csharp";

    static string CellLanguage(JsonObject cell, string fallback) =>
        Highlighter((string?)cell["metadata"]?["polyglot_notebook"]?["kernelName"]
                    ?? (string?)cell["metadata"]?["dotnet_interactive"]?["language"]) ?? fallback;

    /// <summary>highlight.js's name for a .NET Interactive kernel.</summary>
    static string? Highlighter(string? kernel) => kernel?.ToLowerInvariant() switch
    {
        null => null,
        "csharp" or "c#" => "csharp",
        "fsharp" or "f#" => "fsharp",
        "pwsh" or "powershell" => "powershell",
        "javascript" => "javascript",
        "html" => "html",
        "sql" => "sql",
        "mermaid" or "markdown" => "plaintext",
        _ => "plaintext",
    };

    [GeneratedRegex(@"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    /// <summary>The reading page's bar: back to the index, the lesson's name, the same page as slides.</summary>
    static string ReadingNav(string title, string index) =>
        $"<nav class=\"reading-nav\"><a class=\"reading-index\" href=\"{HtmlText.Encode(index)}\">← All lessons</a>" +
        $"<span class=\"reading-title\">{title}</span><a class=\"reading-slides\" href=\"?view=slides\">Present as slides</a></nav>\n";

    static string Template(string title, string assets, bool plotly, string slides, string? readingNav) => $$"""
        <!DOCTYPE html>
        <html lang="en"{{(readingNav is null ? "" : " data-view=\"scroll\"")}}>
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="Transformer Architecture Deep Dive: course slides">
        <title>{{title}}</title>
        <link rel="stylesheet" href="{{assets}}/reveal/reveal.css">
        <link rel="stylesheet" href="{{assets}}/reveal/theme/white.css">
        <link rel="stylesheet" href="{{assets}}/reveal/plugin/highlight/monokai.css">
        <link rel="stylesheet" href="{{assets}}/katex/katex.min.css">
        <link rel="stylesheet" href="{{assets}}/course/slides.css">
        {{(plotly ? $"<script src=\"{assets}/plotly/plotly.min.js\"></script>\n<script src=\"{assets}/course/figures.js\"></script>" : "")}}
        </head>
        <body>
        <div class="reveal">
        {{readingNav}}<div class="deck-label">{{title}}</div>
        <div class="slides">
        {{slides}}</div>
        </div>
        <script src="{{assets}}/reveal/reveal.js"></script>
        <script src="{{assets}}/reveal/plugin/highlight.js"></script>
        <script src="{{assets}}/reveal/plugin/notes.js"></script>
        <script src="{{assets}}/katex/katex.min.js"></script>
        <script src="{{assets}}/course/slides.js"></script>
        </body>
        </html>

        """;
}
