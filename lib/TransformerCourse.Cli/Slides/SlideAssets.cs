using System.Text.RegularExpressions;

namespace TransformerCourse.Cli.Slides;

/// <summary>
/// Copies what the decks load into <c>assets/</c> beside them: reveal.js (core, white theme, highlight and
/// notes plugins), KaTeX and plotly.js from the repository's node_modules (npm, package.json), and the
/// course's own stylesheet and scripts (embedded in this program). Nothing is fetched from a CDN.
/// KaTeX's fonts are written into its stylesheet as data URIs: a browser may refuse web fonts that a file://
/// page loads from another folder (Firefox's file-origin policy is strict), and this way a deck opened from
/// disk typesets the same everywhere.
/// </summary>
public static partial class SlideAssets
{
    /// <summary>(npm file, path under assets/).</summary>
    static readonly (string From, string To)[] NpmFiles =
    [
        ("reveal.js/dist/reveal.js", "reveal/reveal.js"),
        ("reveal.js/dist/reveal.css", "reveal/reveal.css"),
        ("reveal.js/dist/theme/white.css", "reveal/theme/white.css"),
        ("reveal.js/dist/plugin/highlight.js", "reveal/plugin/highlight.js"),
        ("reveal.js/dist/plugin/highlight/monokai.css", "reveal/plugin/highlight/monokai.css"),
        ("reveal.js/dist/plugin/notes.js", "reveal/plugin/notes.js"),
        ("reveal.js/LICENSE", "reveal/LICENSE"),
        ("katex/dist/katex.min.js", "katex/katex.min.js"),
        ("katex/LICENSE", "katex/LICENSE"),
        ("plotly.js-dist-min/plotly.min.js", "plotly/plotly.min.js"),
        ("plotly.js-dist-min/LICENSE", "plotly/LICENSE"),
    ];

    static readonly string[] CourseFiles = ["slides.css", "slides.js", "figures.js"];

    /// <summary>Writes <paramref name="slidesDirectory"/>/assets and returns its path.</summary>
    public static string Install(string courseRoot, string slidesDirectory)
    {
        var nodeModules = Path.Combine(courseRoot, "node_modules");
        var missing = NpmFiles.Select(f => f.From).Append("katex/dist/katex.min.css")
            .Where(f => !File.Exists(Path.Combine(nodeModules, f))).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException(
                $"The slide assets come from npm and are not installed ({string.Join(", ", missing)} missing under {nodeModules}). " +
                $"Run `npm ci` in {courseRoot} and try again.");

        var assets = Path.Combine(slidesDirectory, "assets");
        foreach (var (from, to) in NpmFiles) Copy(Path.Combine(nodeModules, from), Path.Combine(assets, to));

        var katexCss = Path.Combine(nodeModules, "katex", "dist", "katex.min.css");
        Write(Path.Combine(assets, "katex", "katex.min.css"), InlineFonts(File.ReadAllText(katexCss), Path.GetDirectoryName(katexCss)!));

        foreach (var name in CourseFiles)
        {
            using var stream = typeof(SlideAssets).Assembly.GetManifestResourceStream("slides/" + name)
                ?? throw new InvalidOperationException($"The program was built without its slide asset '{name}'.");
            using var reader = new StreamReader(stream);
            Write(Path.Combine(assets, "course", name), reader.ReadToEnd());
        }
        return assets;
    }

    /// <summary>Replaces each @font-face's sources with its woff2 file as a data URI.</summary>
    static string InlineFonts(string css, string cssDirectory) => FontSources().Replace(css, m =>
    {
        var woff2 = Path.Combine(cssDirectory, m.Groups["file"].Value);
        if (!File.Exists(woff2)) return m.Value;
        return $"src:url(data:font/woff2;base64,{Convert.ToBase64String(File.ReadAllBytes(woff2))}) format(\"woff2\")";
    });

    /// <summary>Always copies: npm stamps every file with the same old date, so dates cannot tell versions apart.</summary>
    static void Copy(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to, overwrite: true);
    }

    static void Write(string path, string text)
    {
        if (File.Exists(path) && File.ReadAllText(path) == text) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>An @font-face <c>src:</c> list whose first entry is a woff2 file.</summary>
    [GeneratedRegex(@"src:url\((?<file>fonts/[^)]+\.woff2)\)\s*format\(""woff2""\)(?:,\s*url\([^)]+\)\s*format\(""[^""]+""\))*")]
    private static partial Regex FontSources();
}
