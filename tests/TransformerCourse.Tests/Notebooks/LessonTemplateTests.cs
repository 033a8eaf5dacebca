using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TransformerCourse.Notebook;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Every committed lesson notebook against the lesson template (CONTRIBUTING.md).</summary>
public class LessonTemplateTests
{
    static readonly string[] SlideTypes = ["slide", "subslide", "fragment", "skip", "notes", "-"];

    public static TheoryData<int> ExistingLessons()
    {
        var data = new TheoryData<int>();
        foreach (var l in CourseMap.Lessons.Where(l => File.Exists(Path.Combine(ExecutedNotebook.RepoRoot, l.RelativePath))))
            data.Add(l.Number);
        return data;
    }

    static (Lesson Lesson, JsonObject Json, List<JsonObject> Cells) Load(int number)
    {
        var lesson = CourseMap.Get(number);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(ExecutedNotebook.RepoRoot, lesson.RelativePath)))!.AsObject();
        return (lesson, json, json["cells"]!.AsArray().Select(c => c!.AsObject()).ToList());
    }

    static string Source(JsonObject cell) => cell["source"] is JsonArray a ? string.Concat(a.Select(l => (string?)l)) : (string?)cell["source"] ?? "";

    [Fact]
    public void Section_one_is_complete_and_only_map_names_are_used()
    {
        var onDisk = Directory.EnumerateFiles(Path.Combine(ExecutedNotebook.RepoRoot, "notebooks"), "*.ipynb", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(ExecutedNotebook.RepoRoot, p).Replace('\\', '/')).ToList();
        var known = CourseMap.Lessons.Select(l => l.RelativePath).ToHashSet();
        Assert.All(onDisk, p => Assert.Contains(p, known));
        Assert.All(CourseMap.Lessons.Where(l => l.Section == 1), l => Assert.Contains(l.RelativePath, onDisk));
    }

    [Theory]
    [MemberData(nameof(ExistingLessons))]
    public void Has_csharp_kernel_metadata_slides_and_no_outputs(int number)
    {
        var (_, json, cells) = Load(number);
        Assert.Equal(".net-csharp", (string?)json["metadata"]?["kernelspec"]?["name"]);
        Assert.Equal("csharp", (string?)json["metadata"]?["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]);
        foreach (var (cell, i) in cells.Select((c, i) => (c, i)))
        {
            Assert.Contains((string?)cell["metadata"]?["slideshow"]?["slide_type"], SlideTypes);
            // A control character in a source is nearly always an escape gone wrong ("\v" of \varepsilon written as a vertical tab).
            var control = Source(cell).FirstOrDefault(ch => char.IsControl(ch) && ch is not '\n' and not '\t' and not '\r');
            Assert.True(control == default, $"cell {i} contains control character U+{(int)control:X4}");
            if ((string?)cell["cell_type"] != "code") continue;
            Assert.Equal("csharp", (string?)cell["metadata"]?["polyglot_notebook"]?["kernelName"]);
            Assert.True(cell["outputs"] is not JsonArray { Count: > 0 }, $"cell {i} has committed outputs");
        }
        Assert.Equal("#!import ../course-setup.dib", Source(cells.First(c => (string?)c["cell_type"] == "code")).Trim());
    }

    [Theory]
    [MemberData(nameof(ExistingLessons))]
    public void Has_every_part_of_a_lesson(int number)
    {
        var (lesson, _, cells) = Load(number);
        var markdown = string.Join("\n", cells.Where(c => (string?)c["cell_type"] == "markdown").Select(Source));
        Assert.Contains($"Lesson {number} of 28", Source(cells[0]));
        Assert.Contains(lesson.Title, Source(cells[0]));
        Assert.Equal("slide", (string?)cells[0]["metadata"]!["slideshow"]!["slide_type"]);
        Assert.Matches(@"(?i)what you will learn", markdown);
        Assert.Matches(@"(?i)before you start", markdown);
        Assert.Matches(@"(?i)try it yourself", markdown);
        Assert.Matches(@"(?i)key takeaways", markdown);
        Assert.Contains("$", markdown); // maths in LaTeX
        int objectives = Regex.Match(markdown, @"(?is)what you will learn\s*\n(.*?)\n\s*\n##").Groups[1].Value.Split('\n').Count(l => l.TrimStart().StartsWith("- "));
        Assert.InRange(objectives, 3, 5);
        var code = cells.Where(c => (string?)c["cell_type"] == "code").ToList();
        // Exercises are checked by the lesson's checker class in the library (Exercises/LessonNN.cs), never inline.
        var checker = new Regex($@"\bLesson{number:00}\.\w+\(");
        Assert.Contains(code, c => checker.IsMatch(Source(c)));
        Assert.DoesNotContain(code, c => Regex.IsMatch(Source(c), @"\bCheck\.(Close|Equal|True)\b"));
        var solutions = code.Where(c => c["metadata"]?["tags"]?.AsArray().Any(t => (string?)t == "solution") == true).ToList();
        Assert.InRange(solutions.Count, 1, 3);
        Assert.All(solutions, s => Assert.Equal(true, (bool?)s["metadata"]?["jupyter"]?["source_hidden"]));
        if (number < 28)
        {
            var next = CourseMap.Get(number + 1);
            Assert.Contains($"]({CourseMap.LinkFrom(lesson, next)})", markdown);
            Assert.Matches(@"\*\*Next:\*\*", markdown);
        }
    }
}
