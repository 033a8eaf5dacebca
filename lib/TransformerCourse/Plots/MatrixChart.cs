using TorchSharp;
using XPlot.Plotly;
using static TorchSharp.torch;

namespace TransformerCourse.Plots;

/// <summary>
/// A heatmap for a matrix of signed numbers (positional-encoding tables, weight matrices): a diverging colour scale,
/// symmetric about zero: negative values blue, zero white, positive values red (ColorBrewer's RdBu, reversed). Rows run down from the top;
/// rows and columns are labelled by their index. (<see cref="Charts.Heatmap"/> is for attention weights, which are
/// never negative.)
/// </summary>
public static class MatrixChart
{
    static readonly object[][] Diverging =
    [
        [0.0, "rgb(33,102,172)"], [0.25, "rgb(103,169,207)"], [0.5, "rgb(247,247,247)"], [0.75, "rgb(239,138,98)"], [1.0, "rgb(178,24,43)"],
    ];

    public static Figure Signed(Tensor matrix, string title, string xTitle, string yTitle, int width = 720, int height = 420,
        string valueLabel = "value")
    {
        var z = Charts.ToRows(matrix, nameof(matrix));
        double top = z.SelectMany(r => r).Select(Math.Abs).DefaultIfEmpty(0).Max();
        if (top == 0) top = 1;
        var hover = z.Select((row, i) => row.Select((v, j) => $"{yTitle} {i}<br>{xTitle} {j}<br>{valueLabel} {v:0.000}").ToArray()).ToArray();
        var heat = new Heatmap
        {
            z = z,
            x = Enumerable.Range(0, z[0].Length).ToArray(),
            y = Enumerable.Range(0, z.Length).ToArray(),
            text = hover,
            hoverinfo = "text",
            colorscale = Diverging,
            zmin = -top,
            zmax = top,
        };
        var layout = new Layout.Layout
        {
            title = title,
            width = width,
            height = height,
            xaxis = new Xaxis { title = xTitle },
            yaxis = new Yaxis { title = yTitle, autorange = "reversed" },
        };
        var chart = Chart.Plot(heat, layout);
        chart.WithWidth(width);
        chart.WithHeight(height);
        return new Figure(title, chart.GetInlineHtml(), "heatmap");
    }
}
