namespace TransformerCourse.Cli.Slides;

/// <summary>Escapes text for HTML content and attribute values, leaving every other character as it is.</summary>
public static class HtmlText
{
    public static string Encode(string text) =>
        text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
