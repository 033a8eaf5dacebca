using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TransformerCourse.Cli.Slides;

/// <summary>
/// A code cell's saved outputs as slide HTML: printed text as <c>&lt;pre&gt;</c>, HTML (tables, figures) as
/// it is, images inline. Figures arrive with plotly.js embedded in the notebook's first one (or loaded from a
/// CDN when the library was built without npm); both loaders are dropped here because the deck loads its local
/// copy once, in its head.
/// </summary>
public sealed partial class OutputRenderer(LinkRewriter links)
{
    /// <summary>True once an output drew a plotly chart, so the deck must load plotly.js.</summary>
    public bool UsesPlotly { get; private set; }

    public string Render(JsonArray? outputs)
    {
        if (outputs is null) return "";
        var html = new StringBuilder();
        foreach (var output in outputs.OfType<JsonObject>()) html.Append(RenderOne(output));
        return html.ToString();
    }

    string RenderOne(JsonObject output) => (string?)output["output_type"] switch
    {
        "stream" => Pre($"stream {(string?)output["name"] ?? "stdout"}", Text(output["text"])),
        "error" => Pre("error", ErrorText(output)),
        "display_data" or "execute_result" or "update_display_data" => Rich(output["data"] as JsonObject),
        _ => "",
    };

    string Rich(JsonObject? data)
    {
        if (data is null) return "";
        if (data["text/html"] is { } html) return $"<div class=\"output html\">{Html(Text(html))}</div>";
        if (data["image/svg+xml"] is { } svg) return $"<div class=\"output image\">{Text(svg)}</div>";
        foreach (var mime in new[] { "image/png", "image/jpeg", "image/gif" })
            if (data[mime] is { } image)
                return $"<div class=\"output image\"><img alt=\"\" src=\"data:{mime};base64,{Text(image).Trim()}\"></div>";
        if (data["text/markdown"] is { } markdown) return $"<div class=\"output markdown\">{links.RewriteHtml(MarkdownRenderer.ToHtml(Text(markdown)))}</div>";
        if (data["text/latex"] is { } latex) return $"<div class=\"output latex\">{MarkdownRenderer.ToHtml(Text(latex))}</div>";
        if (data["text/plain"] is { } plain) return Pre("text", Text(plain));
        return "";
    }

    string Html(string html)
    {
        html = Script().Replace(html, m => IsPlotlyLoader(m) ? "" : m.Value);
        if (html.Contains("Plotly.newPlot", StringComparison.Ordinal) || html.Contains("Plotly.react", StringComparison.Ordinal)) UsesPlotly = true;
        return links.RewriteHtml(html);
    }

    /// <summary>A script that loads plotly.js: from a URL, or the whole bundle inline.</summary>
    static bool IsPlotlyLoader(Match script)
    {
        var attributes = script.Groups["attributes"].Value;
        if (attributes.Contains("src", StringComparison.OrdinalIgnoreCase)) return attributes.Contains("plotly", StringComparison.OrdinalIgnoreCase);
        var body = script.Groups["body"];
        return body.Length > 50_000 && body.Value.AsSpan(0, 4_000).Contains("plotly.js", StringComparison.OrdinalIgnoreCase);
    }

    static string ErrorText(JsonObject output)
    {
        var traceback = output["traceback"] is JsonArray lines ? string.Join("\n", lines.Select(l => (string?)l)) : "";
        var text = traceback.Length > 0 ? traceback : $"{(string?)output["ename"]}: {(string?)output["evalue"]}";
        return Ansi().Replace(text, "");
    }

    static string Pre(string kind, string text) =>
        text.Length == 0 ? "" : $"<pre class=\"output {kind}\">{HtmlText.Encode(text.TrimEnd('\n'))}</pre>";

    /// <summary>nbformat stores multi-line strings either whole or as an array of lines.</summary>
    public static string Text(JsonNode? node) => node switch
    {
        JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
        JsonValue value => (string?)value ?? "",
        _ => "",
    };

    [GeneratedRegex(@"<script\b(?<attributes>[^>]*)>(?<body>.*?)</script\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex Script();

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex Ansi();
}
