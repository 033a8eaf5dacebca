using System.Net;
using TorchSharp;
using XPlot.Plotly;
using static TorchSharp.torch;

namespace TransformerCourse.Plots;

/// <summary>One line or bar series: a name and its points. <paramref name="Mode"/> is Plotly's trace mode
/// ("lines+markers", "lines" or "markers" for a scatter of raw data).</summary>
public sealed record Series(string Name, double[] X, double[] Y, string Mode = "lines+markers");

/// <summary>The course's charts, built with XPlot.Plotly and wrapped in a <see cref="Figure"/>.</summary>
public static class Charts
{
    /// <summary>
    /// Attention weights (L_q, L_k) with the key tokens along x and the query tokens along y (first query
    /// on top). Hovering a cell shows both tokens and the weight.
    /// </summary>
    public static Figure Heatmap(Tensor weights, IReadOnlyList<string> keyTokens, IReadOnlyList<string> queryTokens,
        string title = "Attention weights", int size = 420, string xTitle = "key", string yTitle = "query", string valueLabel = "weight")
    {
        var chart = HeatmapChart(weights, keyTokens, queryTokens, title, size, xTitle, yTitle, null, valueLabel);
        return new Figure(title, chart.GetInlineHtml(), "heatmap");
    }

    /// <summary>Several heatmaps side by side (heads, layers or training steps).</summary>
    /// <param name="sharedScale">One colour scale for all panels (default), so panels can be compared by eye.</param>
    /// <param name="panelSize">Pixels per panel; below <see cref="CompactPanel"/> a panel is a bare thumbnail of the pattern.</param>
    /// <param name="rowName">What a row is, for the hover text ("query" for attention weights).</param>
    /// <param name="columnName">What a column is, for the hover text ("key" for attention weights).</param>
    /// <param name="rowTickEvery">Label every n-th row only (the last row always), so long axes stay readable.</param>
    /// <param name="oneColourBar">With a shared scale, draw the colour bar on the last panel only (that panel is made wider for it).</param>
    /// <param name="panelHeight">Height of a panel in pixels (default: <paramref name="panelSize"/>, a square).</param>
    /// <param name="hoverIndex">Show the row and column index in the hover text next to the label (off where the labels say it all).</param>
    /// <param name="leftMargin">Pixels left of each panel for the row labels and the y-axis title.</param>
    /// <param name="zmin">The value drawn in the lightest colour (0 for weights); lower it for values that can be
    /// negative, such as logarithms, or every value below 0 is drawn like 0.</param>
    public static Figure HeatmapGrid(IReadOnlyList<(string Title, Tensor Weights)> panels, IReadOnlyList<string> keyTokens,
        IReadOnlyList<string> queryTokens, string title, int panelSize = 300, string xTitle = "key", string yTitle = "query",
        bool sharedScale = true, string valueLabel = "weight", string rowName = "query", string columnName = "key",
        int rowTickEvery = 1, bool oneColourBar = false, int? panelHeight = null, bool hoverIndex = true, int leftMargin = 70,
        double zmin = 0)
    {
        if (panels.Count == 0) throw new ArgumentException("panels must contain at least one heatmap.", nameof(panels));
        if (rowTickEvery < 1) throw new ArgumentException($"rowTickEvery must be 1 or more but is {rowTickEvery}.", nameof(rowTickEvery));
        double? zmax = sharedScale ? panels.Max(p => p.Weights.max().to_type(ScalarType.Float64).item<double>()) : null;
        var style = new HeatmapStyle(rowName, columnName, rowTickEvery, panelHeight ?? panelSize, HoverIndex: hoverIndex, LeftMargin: leftMargin, Zmin: zmin);
        var html = string.Concat(panels.Select((p, i) =>
        {
            bool scale = !(oneColourBar && sharedScale) || i == panels.Count - 1;
            int width = oneColourBar && sharedScale && scale ? panelSize + 90 : panelSize;
            return HeatmapChart(p.Weights, keyTokens, queryTokens, p.Title, panelSize, xTitle, yTitle, zmax, valueLabel, style with { ShowScale = scale, Width = width }).GetInlineHtml();
        }));
        return new Figure(title, $"<div><b>{WebUtility.HtmlEncode(title)}</b></div><div style=\"display:flex;flex-wrap:wrap;gap:4px\">{html}</div>", "heatmap");
    }

    public static Figure Lines(string title, string xTitle, string yTitle, IEnumerable<Series> series,
        bool logX = false, bool logY = false, int width = 720, int height = 420)
    {
        var traces = series.Select(s => new Scatter { x = s.X, y = s.Y, name = s.Name, mode = s.Mode }).ToList();
        if (traces.Count == 0) throw new ArgumentException("series must contain at least one line.", nameof(series));
        var layout = new Layout.Layout
        {
            title = title,
            width = width,
            height = height,
            xaxis = new Xaxis { title = xTitle, type = logX ? "log" : "linear" },
            yaxis = new Yaxis { title = yTitle, type = logY ? "log" : "linear" },
        };
        var chart = Chart.Plot(traces, layout);
        chart.WithWidth(width);
        chart.WithHeight(height);
        return new Figure(title, chart.GetInlineHtml(), "line");
    }

    public static Figure Bars(string title, string yTitle, IReadOnlyList<string> categories, IEnumerable<(string Name, double[] Values)> series,
        bool logY = false, int width = 720, int height = 420, string? xTitle = null)
    {
        var traces = series.Select(s =>
        {
            if (s.Values.Length != categories.Count)
                throw new ArgumentException($"Series '{s.Name}' has {s.Values.Length} values for {categories.Count} categories.", nameof(series));
            return new Bar { x = categories.ToArray(), y = s.Values, name = s.Name };
        }).ToList();
        var layout = new Layout.Layout
        {
            title = title,
            width = width,
            height = height,
            barmode = "group",
            yaxis = new Yaxis { title = yTitle, type = logY ? "log" : "linear" },
        };
        if (xTitle is not null) layout.xaxis = new Xaxis { title = xTitle };
        var chart = Chart.Plot(traces, layout);
        chart.WithWidth(width);
        chart.WithHeight(height);
        return new Figure(title, chart.GetInlineHtml(), "bar");
    }

    /// <summary>Heatmaps smaller than this (pixels) are drawn as bare thumbnails: no tick labels, titles or colour bar.</summary>
    public const int CompactPanel = 200;

    /// <summary>How one panel is drawn beyond its data (the defaults are the attention heatmap's).</summary>
    sealed record HeatmapStyle(string RowName = "query", string ColumnName = "key", int RowTickEvery = 1, int? Height = null,
        bool ShowScale = true, int? Width = null, bool HoverIndex = true, int LeftMargin = 70, double Zmin = 0);

    static PlotlyChart HeatmapChart(Tensor weights, IReadOnlyList<string> keyTokens, IReadOnlyList<string> queryTokens,
        string title, int size, string xTitle, string yTitle, double? zmax, string valueLabel, HeatmapStyle? style = null)
    {
        style ??= new HeatmapStyle();
        var z = ToRows(weights, nameof(weights));
        if (z.Length != queryTokens.Count || z[0].Length != keyTokens.Count)
            throw new ArgumentException(
                $"weights is {z.Length}×{z[0].Length} but there are {queryTokens.Count} {style.RowName} labels and {keyTokens.Count} {style.ColumnName} labels.", nameof(weights));
        var hover = z.Select((row, i) => row.Select((w, j) =>
            $"{WebUtility.HtmlEncode(style.RowName)}{(style.HoverIndex ? $" {i}" : "")}: {WebUtility.HtmlEncode(queryTokens[i])}<br>" +
            $"{WebUtility.HtmlEncode(style.ColumnName)}{(style.HoverIndex ? $" {j}" : "")}: {WebUtility.HtmlEncode(keyTokens[j])}<br>{WebUtility.HtmlEncode(valueLabel)} {w:0.000}").ToArray()).ToArray();
        int width = style.Width ?? size, height = style.Height ?? size;
        var rowTicks = Enumerable.Range(0, queryTokens.Count).Where(i => i % style.RowTickEvery == style.RowTickEvery - 1 || i == queryTokens.Count - 1).Distinct().ToArray();
        if (style.RowTickEvery == 1) rowTicks = Enumerable.Range(0, queryTokens.Count).ToArray();
        var heat = new Heatmap
        {
            z = z,
            x = Enumerable.Range(0, keyTokens.Count).ToArray(),
            y = Enumerable.Range(0, queryTokens.Count).ToArray(),
            text = hover,
            hoverinfo = "text",
            colorscale = "Blues",
            reversescale = true, // plotly's "Blues" runs dark→light; we want light = low weight
            zmin = style.Zmin,
        };
        if (zmax is double top && top > style.Zmin) heat.zmax = top;
        if (!style.ShowScale) heat.showscale = false;
        // Numeric axes with token tick labels: repeated tokens ("the" twice) stay separate rows.
        var layout = new Layout.Layout
        {
            title = title,
            width = width,
            height = height,
            margin = new Margin { l = style.LeftMargin, r = 10, t = 60, b = 70 },
            xaxis = new Xaxis { title = xTitle, tickvals = Enumerable.Range(0, keyTokens.Count).ToArray(), ticktext = keyTokens.ToArray(), tickangle = -45 },
            yaxis = new Yaxis { title = yTitle, tickvals = rowTicks, ticktext = rowTicks.Select(i => queryTokens[i]).ToArray(), autorange = "reversed" },
        };
        if (size < CompactPanel)
        {
            // A thumbnail in a grid of many: token labels, axis titles and a colour bar would leave no room for the
            // weights themselves, so the panel shows the pattern only (the hover text still names both tokens).
            heat.showscale = false;
            layout.margin = new Margin { l = 8, r = 8, t = 30, b = 8 };
            layout.xaxis = new Xaxis { showticklabels = false, ticks = "" };
            layout.yaxis = new Yaxis { showticklabels = false, ticks = "", autorange = "reversed" };
        }
        var chart = Chart.Plot(heat, layout);
        chart.WithWidth(width);
        chart.WithHeight(height);
        return chart;
    }

    /// <summary>A 2-D tensor (or a higher one with leading ones) as rows of doubles.</summary>
    public static double[][] ToRows(Tensor matrix, string name = "matrix")
    {
        using var m = matrix.detach().squeeze().to_type(ScalarType.Float64).cpu();
        using var two = m.dim() == 1 ? m.unsqueeze(0) : m.alias();
        if (two.dim() != 2)
            throw new ArgumentException($"{name} must be a matrix (L_q, L_k) but has shape {Guard.Shape(matrix)}.", name);
        var flat = two.contiguous().data<double>().ToArray();
        int cols = (int)two.shape[1];
        return Enumerable.Range(0, (int)two.shape[0]).Select(r => flat[(r * cols)..((r + 1) * cols)]).ToArray();
    }
}
