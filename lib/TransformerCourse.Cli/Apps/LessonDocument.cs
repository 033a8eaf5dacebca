using System.Text.Json.Nodes;

namespace TransformerCourse.Cli.Apps;

/// <summary>One cell of a lesson: markdown or code, with its tags and, for code, its 1-based number among code cells.</summary>
public sealed record LessonCell(string Kind, string Source, IReadOnlyList<string> Tags, int CodeNumber)
{
    public bool IsCode => Kind == "code";
    public bool IsMarkdown => Kind == "markdown";
}

/// <summary>Reads the cells of a notebook (.ipynb, nbformat 4) or of a Polyglot .dib file.</summary>
public static class LessonDocument
{
    public static IReadOnlyList<LessonCell> ReadNotebook(string path)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))?.AsObject()
            ?? throw new InvalidDataException($"{path} is not a JSON notebook.");
        var cells = json["cells"]?.AsArray() ?? throw new InvalidDataException($"{path} has no cells array.");
        var result = new List<LessonCell>();
        int code = 0;
        foreach (var node in cells)
        {
            if (node is not JsonObject cell) continue;
            var kind = (string?)cell["cell_type"] ?? "";
            var tags = cell["metadata"]?["tags"] is JsonArray t ? t.Select(x => (string?)x ?? "").ToList() : [];
            result.Add(new LessonCell(kind, Source(cell["source"]), tags, kind == "code" ? ++code : 0));
        }
        return result;
    }

    /// <summary>The C# cells of a .dib file (<c>#!csharp</c> sections; <c>#!meta</c> and other kernels are skipped).</summary>
    public static IReadOnlyList<string> ReadDibCSharp(string path)
    {
        var cells = new List<string>();
        List<string>? current = null;
        foreach (var line in File.ReadAllText(path).Replace("\r\n", "\n").Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed is "#!meta" or "#!markdown" or "#!csharp" or "#!c#" or "#!fsharp" or "#!pwsh" or "#!html" or "#!javascript" or "#!sql" or "#!value" or "#!mermaid")
            {
                if (current is not null) cells.Add(string.Join('\n', current).Trim('\n'));
                current = trimmed is "#!csharp" or "#!c#" ? [] : null;
                continue;
            }
            current?.Add(line);
        }
        if (current is not null) cells.Add(string.Join('\n', current).Trim('\n'));
        return cells.Where(c => c.Trim().Length > 0).ToList();
    }

    static string Source(JsonNode? node) => (node switch
    {
        JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
        JsonValue v => (string?)v ?? "",
        _ => "",
    }).Replace("\r\n", "\n");
}
