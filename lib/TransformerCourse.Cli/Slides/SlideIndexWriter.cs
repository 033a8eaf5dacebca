using TransformerCourse.Notebook;
using System.Text;
using System.Text.Json.Nodes;

namespace TransformerCourse.Cli.Slides;

/// <summary>
/// <c>index.html</c> of the slides folder: all 28 lesson positions of the course map by section, each
/// linking its deck when one has been exported (titles from the notebooks' first cells where they exist),
/// plus any other decks found in the folder. For the reading edition (<c>course read</c>) the same list links
/// each lesson's page, with a second link presenting it as slides, under a note for readers.
/// </summary>
public static class SlideIndexWriter
{
    public static string Write(string courseRoot, string slidesDirectory, bool reading = false)
    {
        var html = new StringBuilder();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        for (int s = 0; s < CourseMap.Sections.Count; s++)
        {
            html.Append($"<section>\n<h2>Section {s + 1} · {HtmlText.Encode(CourseMap.Sections[s])}</h2>\n<ol>\n");
            foreach (var slot in CourseMap.Lessons.Where(l => l.Section == s + 1))
            {
                listed.Add(DeckPath(slot));
                var notebook = Path.Combine(courseRoot, slot.RelativePath);
                var title = HtmlText.Encode(NotebookTitle(notebook) ?? slot.Title);
                var state = File.Exists(Path.Combine(slidesDirectory, DeckPath(slot))) ? null
                    : File.Exists(notebook) ? "not exported yet" : "coming";
                // data-map-title: the course map's name for the slot (tests compare it with the library's CourseMap).
                html.Append($"<li value=\"{slot.Number}\" data-lesson=\"{slot.Number}\" data-map-title=\"{HtmlText.Encode(slot.Title)}\">");
                html.Append(state is not null ? $"<span class=\"coming\">{title}</span> <em>({state})</em>"
                    : reading ? $"<a href=\"{DeckPath(slot)}\">{title}</a> <a class=\"as-slides\" href=\"{DeckPath(slot)}?view=slides\">slides</a>"
                    : $"<a href=\"{DeckPath(slot)}\">{title}</a>");
                html.Append("</li>\n");
            }
            html.Append("</ol>\n</section>\n");
        }

        var others = Directory.Exists(slidesDirectory)
            ? Directory.EnumerateFiles(slidesDirectory, "*.html", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(slidesDirectory, p).Replace('\\', '/'))
                .Where(p => p.Contains('/') && !p.StartsWith("assets/", StringComparison.Ordinal) && !listed.Contains(p))
                .Order(StringComparer.Ordinal).ToList()
            : [];
        if (others.Count > 0)
        {
            html.Append($"<section>\n<h2>Other {(reading ? "pages" : "decks")}</h2>\n<ul>\n");
            foreach (var deck in others) html.Append($"<li><a href=\"{HtmlText.Encode(deck)}\">{HtmlText.Encode(deck)}</a></li>\n");
            html.Append("</ul>\n</section>\n");
        }

        var path = Path.Combine(slidesDirectory, "index.html");
        File.WriteAllText(path, Template(html.ToString(), reading));
        return path;
    }

    /// <summary>The first level-1 heading of a notebook's first markdown cell, or null.</summary>
    static string? NotebookTitle(string notebookPath)
    {
        if (!File.Exists(notebookPath)) return null;
        try
        {
            var cells = JsonNode.Parse(File.ReadAllText(notebookPath))?["cells"]?.AsArray().OfType<JsonObject>();
            var first = cells?.FirstOrDefault(c => (string?)c["cell_type"] == "markdown");
            if (first is null) return null;
            var line = OutputRenderer.Text(first["source"]).Split('\n').FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal));
            return line?[2..].Trim().TrimEnd('#').Trim();
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    const string DeckHelp = """
        <p class="help">Lesson decks, one per notebook. Open one and use the arrow keys; press <kbd>S</kbd> for the speaker view with notes,
        <kbd>F</kbd> for full screen, <kbd>Esc</kbd> for an overview. Add <code>?print-pdf</code> to a deck's address and print to save it as PDF.</p>
        """;

    const string ReadingHelp = """
        <p class="help">The course as it runs: every lesson executed, with its code, printed results, charts and maths, as one page to
        scroll. The notebooks in the repository hold the same lessons without their outputs; run them yourself to change things.
        <em>slides</em> opens a lesson as a slide deck (arrow keys to move, <kbd>Esc</kbd> for an overview).</p>
        """;

    static string Template(string sections, bool reading) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Transformer Architecture Deep Dive: {{(reading ? "the course to read" : "slides")}}</title>
        <style>
          body { font-family: "Source Sans Pro", "Segoe UI", Helvetica, Arial, sans-serif; max-width: 880px; margin: 2.5em auto; padding: 0 1.5em; color: #1f2328; line-height: 1.5; }
          h1 { font-size: 2em; margin-bottom: 0.2em; }
          h2 { font-size: 1.25em; margin: 1.6em 0 0.4em; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; }
          ol, ul { padding-left: 2.2em; }
          li { margin: 0.25em 0; }
          a { color: #1f6feb; text-decoration: none; }
          a:hover { text-decoration: underline; }
          .coming { color: #8c959f; }
          em { color: #8c959f; font-size: 0.9em; }
          a.as-slides { font-size: 0.85em; margin-left: 0.5em; color: #57606a; }
          .help { color: #57606a; }
          kbd { border: 1px solid #d0d7de; border-radius: 4px; padding: 0 0.35em; font-size: 0.9em; background: #f6f8fa; }
        </style>
        </head>
        <body>
        <h1>Transformer Architecture Deep Dive</h1>
        {{(reading ? ReadingHelp : DeckHelp)}}
        {{sections}}</body>
        </html>

        """;

    /// <summary>A lesson's deck, relative to the slides folder.</summary>
    public static string DeckPath(Lesson lesson) => $"{lesson.Folder}/{lesson.Number:00}-{lesson.Slug}.html";
}
