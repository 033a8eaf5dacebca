using XPlot.Plotly;

namespace TransformerCourse.Plots;

/// <summary>One point of a labelled scatter: its group (one legend entry and colour per group), its label and where it lies.</summary>
public sealed record ScatterPoint(string Group, string Label, double X, double Y);

/// <summary>A scatter plot whose points carry text labels, one trace (colour, legend entry) per group.</summary>
public static class LabelledScatter
{
    public static Figure Plot(string title, string xTitle, string yTitle, IEnumerable<ScatterPoint> points, int width = 760, int height = 480)
    {
        var traces = points.GroupBy(p => p.Group).Select(g => new Scatter
        {
            name = g.Key,
            x = g.Select(p => p.X).ToArray(),
            y = g.Select(p => p.Y).ToArray(),
            text = g.Select(p => p.Label).ToArray(),
            mode = "markers+text",
            textposition = "top center",
            marker = new Marker { size = 9 },
        }).ToList();
        if (traces.Count == 0) throw new ArgumentException("points must contain at least one point.", nameof(points));
        var layout = new Layout.Layout
        {
            title = title,
            width = width,
            height = height,
            xaxis = new Xaxis { title = xTitle },
            yaxis = new Yaxis { title = yTitle },
        };
        var chart = Chart.Plot(traces, layout);
        chart.WithWidth(width);
        chart.WithHeight(height);
        return new Figure(title, chart.GetInlineHtml(), "scatter");
    }
}
