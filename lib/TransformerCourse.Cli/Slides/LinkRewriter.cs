using System.Net;
using System.Text.RegularExpressions;

namespace TransformerCourse.Cli.Slides;

/// <summary>
/// Makes a lesson's relative links work from its deck: links to other lessons (<c>.ipynb</c>) point at their
/// decks (the slides folder mirrors the notebooks folder), other relative links are re-based from the
/// notebook's folder to the deck's, and small local images are inlined so the deck stays self-contained.
/// </summary>
public sealed partial class LinkRewriter(string notebookDirectory, string deckDirectory)
{
    const long InlineImageLimit = 2 * 1024 * 1024;

    /// <summary>Rewrites every <c>href</c> and <c>src</c> attribute in <paramref name="html"/>.</summary>
    public string RewriteHtml(string html) => Attribute().Replace(html, m =>
    {
        var name = m.Groups["name"].Value;
        var value = WebUtility.HtmlDecode(m.Groups["value"].Value);
        var rewritten = name.Equals("src", StringComparison.OrdinalIgnoreCase) ? Source(value) : Link(value);
        return rewritten == value ? m.Value : $"{m.Groups["lead"].Value}{name}=\"{Encode(rewritten)}\"";
    });

    /// <summary>A link target as seen from the deck.</summary>
    public string Link(string url)
    {
        if (!IsRelative(url)) return url;
        var (path, suffix) = Split(url);
        if (path.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase)) return path[..^".ipynb".Length] + ".html" + suffix;
        return Rebase(path) + suffix;
    }

    /// <summary>An image source as seen from the deck: a data URI for a local image, else a re-based path.</summary>
    public string Source(string url)
    {
        if (!IsRelative(url)) return url;
        var (path, suffix) = Split(url);
        var file = Path.GetFullPath(Path.Combine(notebookDirectory, Uri.UnescapeDataString(path)));
        var mime = Path.GetExtension(file).ToLowerInvariant() switch
        {
            ".png" => "image/png",
            ".jpg" or ".jpeg" => "image/jpeg",
            ".gif" => "image/gif",
            ".svg" => "image/svg+xml",
            ".webp" => "image/webp",
            _ => null,
        };
        if (mime is not null && File.Exists(file) && new FileInfo(file).Length <= InlineImageLimit)
            return $"data:{mime};base64,{Convert.ToBase64String(File.ReadAllBytes(file))}";
        return Rebase(path) + suffix;
    }

    string Rebase(string path)
    {
        if (path.Length == 0) return path;
        var target = Path.GetFullPath(Path.Combine(notebookDirectory, Uri.UnescapeDataString(path)));
        return Path.GetRelativePath(deckDirectory, target).Replace('\\', '/').Replace(" ", "%20");
    }

    static bool IsRelative(string url) =>
        url.Length > 0 && url[0] != '#' && url[0] != '/' && url[0] != '\\' && !Scheme().IsMatch(url);

    static (string Path, string Suffix) Split(string url)
    {
        var cut = url.IndexOfAny(['#', '?']);
        return cut < 0 ? (url, "") : (url[..cut], url[cut..]);
    }

    static string Encode(string value) => value.Replace("&", "&amp;").Replace("\"", "&quot;");

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.\-]*:")]
    private static partial Regex Scheme();

    [GeneratedRegex("(?<lead>\\s)(?<name>href|src)=\"(?<value>[^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex Attribute();
}
