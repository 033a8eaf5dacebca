using System.Diagnostics;
using System.Text.RegularExpressions;
using TransformerCourse.Notebook;
using TransformerCourse.Tests.Notebooks;
using Xunit.Abstractions;

namespace TransformerCourse.Tests.Slides;

/// <summary>
/// `course read`: the reading edition, each executed lesson as one page to scroll (the lesson's deck in
/// reveal.js's scroll view) under an index. The first tests read the files; the browser tests open every page
/// in headless Chromium with the network blocked, as the deck tests do. Screenshots go to TestResults/reading/.
/// </summary>
public sealed class ReadingEditionTests(ReadingExport export, ITestOutputHelper output) : IClassFixture<ReadingExport>
{
    static readonly string Screenshots = Path.Combine(ExecutedNotebook.RepoRoot, "TestResults", "reading");
    static readonly Regex Charts = new(@"Plotly\.newPlot\(\s*['""]");

    [Fact]
    public void Writes_a_page_per_lesson_that_opens_in_scroll_view_and_loads_only_local_files()
    {
        Assert.True(export.ExitCode == 0, $"course read failed (exit {export.ExitCode}):\n{export.Log}");
        Assert.Contains("01-attention-mechanism/01-the-attention-revolution.ipynb", export.Lessons);
        foreach (var page in export.AllPages)
        {
            Assert.True(File.Exists(page), $"No page at {page}.\n{export.Log}");
            var html = File.ReadAllText(page);
            Assert.Contains("<html lang=\"en\" data-view=\"scroll\">", html);
            // Back to the index, and the same page as slides.
            Assert.Matches("<nav class=\"reading-nav\"><a class=\"reading-index\" href=\"../index.html\">", html);
            Assert.Contains("href=\"?view=slides\"", html);
            var directory = Path.GetDirectoryName(page)!;
            foreach (Match m in Regex.Matches(html, "<(?:script|link)\\b[^>]*\\b(?:src|href)=\"([^\"]+)\""))
            {
                var url = m.Groups[1].Value;
                Assert.False(Regex.IsMatch(url, "^[a-z]+:", RegexOptions.IgnoreCase), $"{page} loads {url}");
                Assert.True(File.Exists(Path.Combine(directory, url)), $"{page} loads {url}, which is not there.");
            }
        }
        foreach (var asset in new[] { "reveal/reveal.js", "katex/katex.min.css", "plotly/plotly.min.js", "course/slides.js", "course/slides.css" })
            Assert.True(File.Exists(Path.Combine(export.ReadingDirectory, "assets", asset)), $"Missing asset {asset}.");
    }

    [Fact]
    public void The_index_has_every_section_links_every_written_lesson_and_shows_the_rest_as_coming()
    {
        var index = File.ReadAllText(export.IndexPath);
        Assert.Contains("the course to read", index);
        for (int s = 0; s < CourseMap.Sections.Count; s++)
            Assert.Contains($"<h2>Section {s + 1} · {System.Net.WebUtility.HtmlEncode(CourseMap.Sections[s])}</h2>", index);
        foreach (var lesson in CourseMap.Lessons)
        {
            var entry = Regex.Match(index, $"<li value=\"{lesson.Number}\" data-lesson=\"{lesson.Number}\"[^>]*>(.*?)</li>");
            Assert.True(entry.Success, $"Lesson {lesson.Number} is not in the index.");
            var page = $"{lesson.Folder}/{lesson.Number:00}-{lesson.Slug}.html";
            var written = File.Exists(Path.Combine(ExecutedNotebook.RepoRoot, lesson.RelativePath));
            if (written)
            {
                Assert.Contains($"href=\"{page}\"", entry.Groups[1].Value);
                Assert.Contains($"href=\"{page}?view=slides\"", entry.Groups[1].Value);
            }
            else Assert.Contains("(coming)", entry.Groups[1].Value);
        }
        // Every link resolves to a file of the edition (queries aside): it works from disk and from a static host.
        var links = Regex.Matches(index, "href=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.True(links.Count >= export.Lessons.Count * 2, $"{links.Count} links for {export.Lessons.Count} lessons");
        foreach (var link in links)
        {
            Assert.False(Regex.IsMatch(link, "^([a-z]+:|/)", RegexOptions.IgnoreCase), $"The index links {link}: not relative.");
            var file = Path.Combine(export.ReadingDirectory, System.Net.WebUtility.HtmlDecode(link).Split('?', '#')[0]);
            Assert.True(File.Exists(file), $"The index links {link}, which is not there.");
        }
    }

    [ChromiumFact]
    public async Task Every_page_opens_offline_in_scroll_view_with_all_its_slides_legible()
    {
        var watch = Stopwatch.StartNew();
        await using var browser = await DeckBrowser.LaunchAsync();
        var problems = new List<string>();
        foreach (var page in export.AllPages)
        {
            var relative = Path.GetRelativePath(export.ReadingDirectory, page);
            var shots = Path.Combine(Screenshots, Path.ChangeExtension(relative, null));
            if (Directory.Exists(shots)) Directory.Delete(shots, recursive: true);
            var pageWatch = Stopwatch.StartNew();
            var report = await browser.CheckReadingAsync(page, shots);
            output.WriteLine($"{relative}: {report.VisitedSlides} of {report.TotalSlides} slides on scroll pages, {report.Plots} plots, " +
                             $"{report.KatexElements} maths, {report.Legibility.Count} legibility problems, {pageWatch.Elapsed.TotalSeconds:0.0}s");
            problems.AddRange(report.Problems.Select(p => $"{relative}: {p}"));
            if (report.TotalSlides < 2) problems.Add($"{relative}: only {report.TotalSlides} slides");
            if (report.LaidOutSlides != report.TotalSlides) problems.Add($"{relative}: legibility checked {report.LaidOutSlides} of {report.TotalSlides} slides");
            var charts = Charts.Count(await File.ReadAllTextAsync(page));
            if (report.Plots != charts) problems.Add($"{relative}: {report.Plots} plots drawn for {charts} charts in the HTML");
            if (report.MathElements > 0 && report.KatexElements < report.MathElements)
                problems.Add($"{relative}: {report.KatexElements} KaTeX elements for {report.MathElements} maths spans");
            if (report.Screenshots.Count == 0) problems.Add($"{relative}: no screenshots");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        output.WriteLine($"Checked {export.AllPages.Count()} pages in {watch.Elapsed.TotalSeconds:0.0}s.");
    }

    [ChromiumFact]
    public async Task A_page_shows_every_fragment_and_presents_as_slides_with_view_slides()
    {
        await using var browser = await DeckBrowser.LaunchAsync();
        await using var session = await browser.NewSessionAsync();
        var page = await session.Context.NewPageAsync();
        await DeckBrowser.OpenAsync(page, export.SyntheticPagePath);
        Assert.True(await page.EvaluateAsync<bool>("() => Reveal.isScrollView()"));
        // The fragment marker is on the page from the start, not one scroll step later.
        Assert.True(await page.EvaluateAsync<bool>(
            $"() => [...document.querySelectorAll('.reveal .slides p')].some(p => p.textContent.includes('{SyntheticNotebook.FragmentMarker}') && p.checkVisibility({{ opacityProperty: true, visibilityProperty: true }}))"));
        Assert.True(await page.Locator(".reading-nav").IsVisibleAsync());

        await DeckBrowser.OpenAsync(page, export.SyntheticPagePath, "?view=slides");
        Assert.False(await page.EvaluateAsync<bool>("() => Reveal.isScrollView()"));
        Assert.Equal(SyntheticNotebook.LaidOutSlideCount, await page.EvaluateAsync<int>("() => Reveal.getTotalSlides()"));
        Assert.True(await page.EvaluateAsync<int>("() => document.querySelectorAll('.reveal .slides .fragment').length") > 0);
        Assert.False(await page.Locator(".reading-nav").IsVisibleAsync());
        Assert.True(!session.Problems.Any(), string.Join("\n", session.Problems));
    }

    [ChromiumFact]
    public async Task The_index_opens_offline_and_its_links_reach_the_pages()
    {
        await using var browser = await DeckBrowser.LaunchAsync();
        await using var session = await browser.NewSessionAsync();
        var page = await session.Context.NewPageAsync();
        await page.GotoAsync(new Uri(export.IndexPath).AbsoluteUri);
        var hrefs = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('a[href]')].map(a => a.href)");
        Assert.NotEmpty(hrefs);
        foreach (var href in hrefs)
        {
            var uri = new Uri(href);
            Assert.Equal("file", uri.Scheme);
            Assert.True(File.Exists(uri.LocalPath), $"The index links {href}, which is not there.");
        }
        // Following the first lesson's link lands on its page, in scroll view.
        await page.Locator("li[data-lesson='1'] a").First.ClickAsync();
        await page.WaitForFunctionAsync("() => window.Reveal && Reveal.isReady() && Reveal.isScrollView()", null, new() { Timeout = 30_000 });
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "lesson-1-from-the-index.png") });
        Assert.True(!session.Problems.Any(), string.Join("\n", session.Problems));
    }
}
