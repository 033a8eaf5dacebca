using System.Net;
using System.Text;
using Microsoft.Data.Analysis;

namespace TransformerCourse.Notebook;

/// <summary>DataFrames as HTML tables (the setup cell registers this as their notebook formatter).</summary>
public static class Tables
{
    public static string ToHtml(DataFrame frame, int maxRows = 50)
    {
        var html = new StringBuilder("<table class=\"course-table\"><thead><tr>");
        foreach (var column in frame.Columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column.Name)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        for (long r = 0; r < Math.Min(frame.Rows.Count, maxRows); r++)
        {
            html.Append("<tr>");
            foreach (var column in frame.Columns) html.Append("<td>").Append(WebUtility.HtmlEncode(Format(column[r]))).Append("</td>");
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        if (frame.Rows.Count > maxRows) html.Append($"<p>… {frame.Rows.Count - maxRows} more rows</p>");
        return html.ToString();
    }

    static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString(Math.Abs(d) >= 1e5 || (Math.Abs(d) < 1e-3 && d != 0) ? "0.###e+0" : "0.####"),
        float f => Format((double)f),
        _ => value.ToString() ?? "",
    };
}
