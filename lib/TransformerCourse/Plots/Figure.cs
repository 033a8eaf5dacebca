using System.Reflection;

namespace TransformerCourse.Plots;

/// <summary>
/// A chart (or a row of charts) as HTML. Notebooks display it through a text/html formatter that the
/// setup cell registers. The first figure after <see cref="ResetPlotlyLoader"/> carries plotly.js
/// itself, so saved notebooks and slides draw with no internet.
/// </summary>
public sealed class Figure(string title, string body, string kind)
{
    private static bool plotlyEmitted;
    private static readonly Lazy<string?> PlotlySource = new(ReadEmbeddedPlotly);
    const string CdnUrl = "https://cdn.plot.ly/plotly-2.35.3.min.js";

    public string Title { get; } = title;

    /// <summary>heatmap, line, bar or a combination.</summary>
    public string Kind { get; } = kind;

    /// <summary>The chart markup without the plotly.js loader.</summary>
    public string Body { get; } = body;

    /// <summary>True when this build of the library carries plotly.js (built with npm available).</summary>
    public static bool HasOfflinePlotly => PlotlySource.Value is not null;

    /// <summary>Call once per notebook (the setup cell does) so its first chart embeds plotly.js again.</summary>
    public static void ResetPlotlyLoader() => plotlyEmitted = false;

    public string ToHtml()
    {
        var loader = "";
        if (!plotlyEmitted)
        {
            plotlyEmitted = true;
            loader = PlotlySource.Value is { } js
                ? $"<script type=\"text/javascript\">/* plotly.js 2.35.3, MIT licence */\n{js}\n</script>"
                : $"<script src=\"{CdnUrl}\"></script>";
        }
        return $"<div class=\"course-figure\" data-kind=\"{Kind}\">{loader}{Body}</div>";
    }

    public override string ToString() => $"Figure ({Kind}): {Title}";

    static string? ReadEmbeddedPlotly()
    {
        using var stream = typeof(Figure).Assembly.GetManifestResourceStream("plotly.min.js");
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        // A literal "</script>" inside the bundle would end the tag early.
        return reader.ReadToEnd().Replace("</script>", "<\\/script>", StringComparison.OrdinalIgnoreCase);
    }
}
