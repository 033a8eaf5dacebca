using System.Diagnostics;
using System.Text.RegularExpressions;
using TransformerCourse.Notebook;
using TransformerCourse.Tests.Notebooks;
using Xunit.Abstractions;

namespace TransformerCourse.Tests.Slides;

/// <summary>
/// `course slides`: one offline reveal.js deck per lesson plus an index. The first tests read the exported
/// HTML; the browser tests open every deck in headless Chromium with the network blocked, walk it, and
/// check that charts draw, maths typesets, nothing fails to load and the speaker notes open.
/// Screenshots go to TestResults/slides/ at the repository root.
/// </summary>
public sealed class SlideDeckTests(SlideExport export, ITestOutputHelper output) : IClassFixture<SlideExport>
{
    static readonly string Screenshots = Path.Combine(ExecutedNotebook.RepoRoot, "TestResults", "slides");

    /// <summary>A chart's drawing call as XPlot writes it (plotly.js itself mentions Plotly.newPlot in a message).</summary>
    static readonly Regex Charts = new(@"Plotly\.newPlot\(\s*['""]");

    [Fact]
    public void Exports_a_deck_per_lesson_with_local_assets_and_an_index()
    {
        Assert.True(export.ExitCode == 0, $"course slides failed (exit {export.ExitCode}):\n{export.Log}");
        Assert.Contains("01-attention-mechanism/01-the-attention-revolution.ipynb", export.Lessons);
        Assert.All(export.AllDecks, deck => Assert.True(File.Exists(deck), $"No deck at {deck}.\n{export.Log}"));
        foreach (var asset in new[] { "reveal/reveal.js", "reveal/reveal.css", "reveal/theme/white.css", "reveal/plugin/highlight.js",
                     "reveal/plugin/notes.js", "katex/katex.min.js", "katex/katex.min.css", "plotly/plotly.min.js",
                     "course/slides.js", "course/slides.css", "course/figures.js" })
            Assert.True(File.Exists(Path.Combine(export.SlidesDirectory, "assets", asset)), $"Missing asset {asset}.");
        // KaTeX's fonts travel inside its stylesheet (file:// pages may not load fonts from other folders).
        var katexCss = File.ReadAllText(Path.Combine(export.SlidesDirectory, "assets", "katex", "katex.min.css"));
        Assert.DoesNotContain("url(fonts/", katexCss);
        Assert.Contains("data:font/woff2;base64,", katexCss);
        Assert.True(File.Exists(Path.Combine(export.SlidesDirectory, "index.html")));
    }

    [Fact]
    public void The_index_lists_all_28_lessons_of_the_course_map_and_links_the_exported_ones()
    {
        var index = File.ReadAllText(Path.Combine(export.SlidesDirectory, "index.html"));
        Assert.Equal(28, Regex.Matches(index, "data-lesson=\"").Count);
        for (int s = 0; s < CourseMap.Sections.Count; s++)
            Assert.Contains($"Section {s + 1} · {System.Net.WebUtility.HtmlEncode(CourseMap.Sections[s])}", index);
        foreach (var lesson in CourseMap.Lessons)
        {
            // The CLI keeps its own copy of the course map (it must not load the library): it has to agree.
            var entry = Regex.Match(index, $"<li value=\"{lesson.Number}\" data-lesson=\"{lesson.Number}\" data-map-title=\"([^\"]*)\">(.*?)</li>");
            Assert.True(entry.Success, $"Lesson {lesson.Number} is not in the index.");
            Assert.Equal(lesson.Title, System.Net.WebUtility.HtmlDecode(entry.Groups[1].Value));
            var item = entry.Groups[2].Value;
            var deck = $"{lesson.Folder}/{lesson.Number:00}-{lesson.Slug}.html";
            var exported = export.Lessons.Contains(Path.ChangeExtension(deck, ".ipynb"));
            Assert.True(exported == item.Contains($"href=\"{deck}\""), $"Lesson {lesson.Number}: exported {exported}, index entry {item}");
        }
        Assert.Contains($"href=\"{SyntheticNotebook.Section}/{SyntheticNotebook.Name}.html\"", index);
    }

    [Fact]
    public void Slide_types_shape_the_deck()
    {
        var html = File.ReadAllText(export.SyntheticDeckPath);
        var slides = Regex.Matches(html, "<section").Count;
        // Four leaf slides; the first horizontal slide holds a vertical stack of two.
        Assert.Equal(SyntheticNotebook.SlideCount + 1, slides);
        Assert.Matches(@"<section>\s*<section class=""title-slide"">", html);
        Assert.DoesNotContain(SyntheticNotebook.SkipMarker, html);
        Assert.Matches($"<div class=\"fragment\"><div class=\"cell markdown\">\\s*<p>{SyntheticNotebook.FragmentMarker}", html);
        Assert.Matches($"<aside class=\"notes\">\\s*<div class=\"cell markdown\">\\s*<p>{SyntheticNotebook.NotesMarker}", html);
        Assert.Matches("<div class=\"fragment\"><div class=\"cell code\"><pre class=\"input\"><code class=\"language-csharp", html);
        // The error is shown; the '-' cell after that fragment (source hidden, output shown) joins the fragment.
        Assert.Contains($"<pre class=\"output error\">{SyntheticNotebook.ErrorMarker}</pre></div></div>\n" +
                        $"<div class=\"cell code\"><div class=\"outputs\"><pre class=\"output stream stdout\">{SyntheticNotebook.HiddenOutputMarker}</pre></div></div>\n" +
                        "</div>\n</div>\n</section>", html);
        Assert.Contains("<p>What costs $5 costs $5.</p>", html);
        Assert.DoesNotContain(SyntheticNotebook.HiddenSourceMarker, html);
        // Maths stays TeX for KaTeX; C# keeps its '#'; lesson links point at decks.
        Assert.Contains(@"<span class=""math"">\(a_i^2 + b_i^2\)</span>", html);
        Assert.Contains(@"<span class=""math display"">\[\operatorname{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}\]</span>", html);
        Assert.Contains("<h2>Display maths in C#</h2>", html);
        Assert.Contains("href=\"../01-attention-mechanism/01-the-attention-revolution.html\"", html);
        Assert.Contains("<title>Slide Features</title>", html);
    }

    [Fact]
    public void Decks_load_only_local_files_and_plotly_once()
    {
        foreach (var deck in export.AllDecks)
        {
            var html = File.ReadAllText(deck);
            var directory = Path.GetDirectoryName(deck)!;
            foreach (Match m in Regex.Matches(html, "<(?:script|link)\\b[^>]*\\b(?:src|href)=\"([^\"]+)\""))
            {
                var url = m.Groups[1].Value;
                Assert.False(Regex.IsMatch(url, "^[a-z]+:", RegexOptions.IgnoreCase), $"{deck} loads {url}");
                Assert.True(File.Exists(Path.Combine(directory, url)), $"{deck} loads {url}, which is not there.");
            }
            var charts = Charts.Count(html);
            Assert.Equal(charts > 0 ? 1 : 0, Regex.Matches(html, "<script src=\"[^\"]*plotly/plotly.min.js\"></script>").Count);
            Assert.DoesNotContain("plotly.js v2", html);
            Assert.True(new FileInfo(deck).Length < 2_000_000, $"{deck} is {new FileInfo(deck).Length:N0} bytes: is a bundle inline?");
        }
        foreach (var lesson in export.Lessons)
        {
            // Every chart of every cell that is not skipped (reference solutions are) is on a slide.
            var shown = ExecutedNotebook.Run(lesson).Cells
                .Where(c => (string?)c["metadata"]?["slideshow"]?["slide_type"] != "skip")
                .SelectMany(c => c["outputs"]?.AsArray() ?? [])
                .Select(o => (string?)o?["data"]?["text/html"] ?? "");
            var expected = shown.Sum(h => Charts.Count(h));
            Assert.True(expected == Charts.Count(File.ReadAllText(export.DeckPath(lesson))),
                $"{lesson}: {expected} charts on slides in the notebook, {Charts.Count(File.ReadAllText(export.DeckPath(lesson)))} in the deck.");
        }
    }

    [ChromiumFact]
    public async Task Every_deck_renders_offline_in_Chromium()
    {
        var watch = Stopwatch.StartNew();
        await using var browser = await DeckBrowser.LaunchAsync();
        var problems = new List<string>();
        foreach (var deck in export.AllDecks)
        {
            var relative = Path.GetRelativePath(export.SlidesDirectory, deck);
            var shots = Path.Combine(Screenshots, Path.ChangeExtension(relative, null));
            if (Directory.Exists(shots)) Directory.Delete(shots, recursive: true);
            var deckWatch = Stopwatch.StartNew();
            var report = await browser.CheckAsync(deck, shots);
            var html = await File.ReadAllTextAsync(deck);
            output.WriteLine($"{relative}: {report.TotalSlides} slides in {report.Steps} steps, {report.Plots} plots, " +
                             $"{report.KatexElements} maths, {report.Legibility.Count} legibility problems, {deckWatch.Elapsed.TotalSeconds:0.0}s, screenshots in {shots}");

            problems.AddRange(report.Problems.Select(p => $"{relative}: {p}"));
            if (report.TotalSlides < 2) problems.Add($"{relative}: only {report.TotalSlides} slides");
            var charts = Charts.Count(html);
            if (report.Plots != charts) problems.Add($"{relative}: {report.Plots} plots drawn for {charts} charts in the HTML");
            if (report.MathElements > 0 && report.KatexElements < report.MathElements)
                problems.Add($"{relative}: {report.KatexElements} KaTeX elements for {report.MathElements} maths spans");
            if (report.Screenshots.Count == 0) problems.Add($"{relative}: no screenshots");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        output.WriteLine($"Checked {export.AllDecks.Count()} decks in {watch.Elapsed.TotalSeconds:0.0}s.");
    }

    [ChromiumFact]
    public async Task A_figure_of_many_small_charts_wraps_into_a_grid_that_fits_a_slide()
    {
        // Sixteen 150 px heatmaps in one row would run far off the slide, and their margins forbid shrinking them:
        // slides.js must wrap the row into a grid that fits the slide it lands on (lesson 28 draws such a figure).
        await using var browser = await DeckBrowser.LaunchAsync();
        var report = await browser.CheckAsync(export.GridDeckPath, Path.Combine(Screenshots, SyntheticNotebook.GridName));
        Assert.True(!report.Problems.Any(), string.Join("\n", report.Problems));
        Assert.Equal(SyntheticNotebook.GridPanels, report.Plots);
        Assert.Empty(report.UndrawnPlots);
    }

    [Fact]
    public void Long_code_is_cut_into_parts_that_keep_every_line_in_order()
    {
        var html = File.ReadAllText(export.OverflowDeckPath);
        var parts = Regex.Matches(html, "<pre class=\"input part\"><code class=\"language-csharp\">(.*?)</code></pre>", RegexOptions.Singleline)
            .Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        Assert.True(parts.Count >= 4, $"{parts.Count} parts for {SyntheticNotebook.LongCodeLines} lines");
        Assert.All(parts, p => Assert.True(p.Split('\n').Length <= 20, $"a part of {p.Split('\n').Length} lines"));
        var shown = Regex.Matches(string.Join("\n", parts), @"LONG-CODE-LINE-(\d+)\b").Select(m => int.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(Enumerable.Range(1, SyntheticNotebook.LongCodeLines).Where(i => i % 9 != 0), shown);
        // Short cells stay whole.
        Assert.DoesNotContain("input part", File.ReadAllText(export.SyntheticDeckPath));
    }

    [ChromiumFact]
    public async Task The_legibility_check_fails_on_a_deck_that_cannot_fit()
    {
        await using var browser = await DeckBrowser.LaunchAsync();
        var report = await browser.CheckAsync(export.OverflowDeckPath, Path.Combine(export.WorkDirectory, "overflow-shots"));
        var all = string.Join("\n", report.Legibility);
        output.WriteLine(all);
        // The formula no slide can hold at a legible size, and the 9 px text, are named with their slide.
        Assert.Contains(report.Legibility, p => p.StartsWith("slide 2 (h 1, v 0): overflows the canvas:", StringComparison.Ordinal) && p.Contains("katex"));
        Assert.Contains(report.Legibility, p => p.Contains(": text below 14 px: ") && p.Contains(SyntheticNotebook.TinyTextMarker));
        // The long code cell is not among them: it continues, whole and legible, on slides of its own.
        Assert.DoesNotContain("LONG-CODE-LINE", all);
        Assert.True(report.LaidOutSlides >= 6, $"{report.LaidOutSlides} slides: the long code did not continue on new slides");
        Assert.Equal(report.LaidOutSlides, report.VisitedSlides);
    }

    [ChromiumFact]
    public async Task The_browser_check_catches_network_access_raw_maths_and_empty_charts()
    {
        // A copy of the synthetic deck with three faults the checks above must notice.
        var broken = Path.Combine(Path.GetDirectoryName(export.SyntheticDeckPath)!, "broken.html");
        var html = File.ReadAllText(export.SyntheticDeckPath)
            .Replace("</head>", "<script src=\"https://cdn.example.invalid/library.js\"></script>\n</head>")
            .Replace("<div class=\"slide-fit\">", "<div class=\"slide-fit\"><p>untypeset $x^2$ here</p><div class=\"course-figure\"></div>");
        File.WriteAllText(broken, html);
        try
        {
            await using var browser = await DeckBrowser.LaunchAsync();
            var report = await browser.CheckAsync(broken, Path.Combine(export.WorkDirectory, "broken-shots"));
            Assert.Contains(report.BlockedRequests, r => r.Contains("cdn.example.invalid"));
            Assert.NotEmpty(report.RawTex);
            Assert.Contains(report.UndrawnPlots, p => p.StartsWith("figure without a plot", StringComparison.Ordinal));
            Assert.Equal(SyntheticNotebook.LaidOutSlideCount, report.VisitedSlides);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [ChromiumFact]
    public async Task Speaker_notes_open_in_the_notes_view()
    {
        await using var browser = await DeckBrowser.LaunchAsync();
        await using var session = await browser.NewSessionAsync();
        var page = await session.Context.NewPageAsync();
        await DeckBrowser.OpenAsync(page, export.SyntheticDeckPath);
        await page.EvaluateAsync("() => Reveal.slide(0, 1)");

        var notes = await page.RunAndWaitForPopupAsync(() => page.Keyboard.PressAsync("s"));
        var text = notes.Locator(".speaker-controls-notes");
        await text.WaitForAsync(new() { Timeout = 15_000 });
        await Microsoft.Playwright.Assertions.Expect(text).ToContainTextAsync(SyntheticNotebook.NotesMarker, new() { Timeout = 15_000 });
        // The notes view shows the current and the upcoming slide, each a copy of the deck in a frame.
        await notes.WaitForFunctionAsync("() => document.querySelectorAll('iframe').length >= 2", null, new() { Timeout = 15_000 });
        var previews = notes.Frames.Where(f => f.Url.Contains("receiver", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(previews);
        foreach (var frame in previews)
            await frame.WaitForFunctionAsync("() => window.Reveal && Reveal.isReady()", null, new() { Timeout = 15_000 });
        await notes.WaitForTimeoutAsync(300);
        Directory.CreateDirectory(Screenshots);
        await notes.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "speaker-view.png") });
        Assert.True(!session.Problems.Any(), string.Join("\n", session.Problems));
    }

    [ChromiumFact]
    public async Task Prints_to_pdf_one_page_per_slide()
    {
        await using var browser = await DeckBrowser.LaunchAsync();
        await using var session = await browser.NewSessionAsync();
        var page = await session.Context.NewPageAsync();
        await DeckBrowser.OpenAsync(page, export.SyntheticDeckPath, "?print-pdf");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('.pdf-page').length > 0");
        Assert.Equal(SyntheticNotebook.LaidOutSlideCount, await page.EvaluateAsync<int>("() => document.querySelectorAll('.pdf-page').length"));
        Directory.CreateDirectory(Screenshots);
        var pdf = Path.Combine(Screenshots, SyntheticNotebook.Name + ".pdf");
        await page.PdfAsync(new() { Path = pdf, PreferCSSPageSize = true, PrintBackground = true });
        Assert.True(new FileInfo(pdf).Length > 10_000);
        Assert.True(!session.Problems.Any(), string.Join("\n", session.Problems));
    }
}
