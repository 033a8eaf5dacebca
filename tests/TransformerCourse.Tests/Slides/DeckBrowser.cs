using System.Text.Json;
using Microsoft.Playwright;

namespace TransformerCourse.Tests.Slides;

/// <summary>
/// Opens decks in the system's headless Chromium through Playwright, with every request that is not a
/// file:// URL aborted and counted, walks each deck step by step (Reveal.next) and reports what it saw.
/// Playwright never downloads a browser here: it is pointed at /usr/bin/chromium.
/// </summary>
public sealed class DeckBrowser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    readonly IPlaywright playwright;
    readonly IBrowser browser;

    DeckBrowser(IPlaywright playwright, IBrowser browser) => (this.playwright, this.browser) = (playwright, browser);

    public static async Task<DeckBrowser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
        return new DeckBrowser(playwright, browser);
    }

    /// <summary>A fresh context (1280 x 720) that blocks the network and records errors.</summary>
    public async Task<BrowserSession> NewSessionAsync()
    {
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 720 } });
        var session = new BrowserSession(context);
        await context.RouteAsync("**/*", async route =>
        {
            if (route.Request.Url.StartsWith("file:", StringComparison.Ordinal)) await route.ContinueAsync();
            else
            {
                session.Blocked.Enqueue(route.Request.Url);
                await route.AbortAsync();
            }
        });
        context.Console += (_, message) => { if (message.Type == "error") session.Errors.Enqueue($"{message.Text} ({message.Location})"); };
        context.WebError += (_, error) => session.Errors.Enqueue(error.Error);
        context.RequestFailed += (_, request) => session.Failed.Enqueue($"{request.Url}: {request.Failure}");
        return session;
    }

    /// <summary>Opens a deck, walks it and checks figures and maths; screenshots the slides chosen by <see cref="PickSlidesScript"/>.</summary>
    public async Task<DeckReport> CheckAsync(string deckPath, string screenshotDirectory)
    {
        await using var session = await NewSessionAsync();
        var page = await session.Context.NewPageAsync();
        await OpenAsync(page, deckPath);

        var walk = await page.EvaluateAsync<JsonElement>(WalkScript);
        var checks = await page.EvaluateAsync<JsonElement>(ChecksScript);
        var (laidOut, legibility) = await CheckLegibilityAsync(page);

        Directory.CreateDirectory(screenshotDirectory);
        var screenshots = new List<string>();
        foreach (var slide in (await page.EvaluateAsync<JsonElement>(PickSlidesScript)).EnumerateArray())
        {
            var (h, v) = (slide.GetProperty("h").GetInt32(), slide.GetProperty("v").GetInt32());
            await page.EvaluateAsync("([h, v]) => Reveal.slide(h, v, 999)", new[] { h, v });
            await page.WaitForTimeoutAsync(50);
            var file = Path.Combine(screenshotDirectory, $"slide-{h:00}-{v:00}-{slide.GetProperty("why").GetString()}.png");
            await page.ScreenshotAsync(new() { Path = file });
            screenshots.Add(file);
        }

        return new DeckReport
        {
            Deck = deckPath,
            ConsoleErrors = [.. session.Errors],
            FailedRequests = [.. session.Failed],
            BlockedRequests = [.. session.Blocked],
            TotalSlides = walk.GetProperty("total").GetInt32(),
            VisitedSlides = walk.GetProperty("visited").GetInt32(),
            Steps = walk.GetProperty("steps").GetInt32(),
            Figures = checks.GetProperty("figures").GetInt32(),
            Plots = checks.GetProperty("plots").GetInt32(),
            UndrawnPlots = Strings(checks.GetProperty("undrawn")),
            MathElements = checks.GetProperty("math").GetInt32(),
            KatexElements = checks.GetProperty("katex").GetInt32(),
            KatexErrors = checks.GetProperty("katexErrors").GetInt32(),
            RawTex = Strings(checks.GetProperty("rawTex")),
            Screenshots = screenshots,
            Legibility = legibility,
            LaidOutSlides = laidOut,
        };
    }

    /// <summary>
    /// Opens a page of the reading edition (course read), which must start in reveal.js's scroll view, and checks
    /// that every slide is laid out on a page of its own, in order, with nothing waiting to appear; then the same
    /// figure, maths and legibility checks as a deck. Screenshots: the top of the page and the first chart.
    /// </summary>
    public async Task<DeckReport> CheckReadingAsync(string pagePath, string screenshotDirectory)
    {
        await using var session = await NewSessionAsync();
        var page = await session.Context.NewPageAsync();
        await OpenAsync(page, pagePath);

        var layout = await page.EvaluateAsync<JsonElement>(ScrollLayoutScript);
        var checks = await page.EvaluateAsync<JsonElement>(ChecksScript);
        var (laidOut, legibility) = await CheckLegibilityAsync(page);

        Directory.CreateDirectory(screenshotDirectory);
        var screenshots = new List<string>();
        foreach (var (selector, why) in new[] { ("", "top"), ("section .js-plotly-plot", "chart") })
        {
            // The top of the page (its bar of links and the title slide), then the first chart's slide.
            var found = await page.EvaluateAsync<bool>(
                "(selector) => { if (!selector) { (document.querySelector('.reveal-viewport') || document.scrollingElement).scrollTop = 0; return true; } " +
                "const e = document.querySelector('.reveal .slides ' + selector); if (!e) return false; " +
                "(e.closest('.scroll-page') || e).scrollIntoView({ block: 'start' }); return true; }", selector);
            if (!found) continue;
            await page.WaitForTimeoutAsync(100);
            var file = Path.Combine(screenshotDirectory, $"page-{why}.png");
            await page.ScreenshotAsync(new() { Path = file });
            screenshots.Add(file);
        }

        return new DeckReport
        {
            Deck = pagePath,
            ConsoleErrors = [.. session.Errors],
            FailedRequests = [.. session.Failed],
            BlockedRequests = [.. session.Blocked],
            TotalSlides = layout.GetProperty("total").GetInt32(),
            VisitedSlides = layout.GetProperty("onPages").GetInt32(),
            Steps = 0,
            Figures = checks.GetProperty("figures").GetInt32(),
            Plots = checks.GetProperty("plots").GetInt32(),
            UndrawnPlots = Strings(checks.GetProperty("undrawn")),
            MathElements = checks.GetProperty("math").GetInt32(),
            KatexElements = checks.GetProperty("katex").GetInt32(),
            KatexErrors = checks.GetProperty("katexErrors").GetInt32(),
            RawTex = Strings(checks.GetProperty("rawTex")),
            Screenshots = screenshots,
            Legibility = legibility,
            LaidOutSlides = laidOut,
            ScrollLayout = Strings(layout.GetProperty("problems")),
        };
    }

    /// <summary>The scroll view's layout: one page per leaf slide, in order down the page, all shown; scrolling reaches the end.</summary>
    const string ScrollLayoutScript = """
        async () => {
          const problems = [];
          if (!Reveal.isScrollView()) problems.push('the page did not open in the scroll view');
          const root = document.querySelector('.reveal .slides');
          const leaves = [...root.querySelectorAll('section')].filter(s => s.querySelector('section') === null);
          const pages = [...root.querySelectorAll('.scroll-page')];
          if (pages.length !== leaves.length) problems.push(`${pages.length} pages for ${leaves.length} slides`);
          let onPages = 0, previousTop = -Infinity;
          leaves.forEach((slide, i) => {
            const page = slide.closest('.scroll-page');
            if (!page) { problems.push(`slide ${i + 1} is not on a page`); return; }
            if (page.querySelectorAll('section').length !== 1) problems.push(`slide ${i + 1} shares its page`);
            const box = page.getBoundingClientRect(), own = slide.getBoundingClientRect();
            if (box.height < 100 || own.width < 100) problems.push(`slide ${i + 1}: page ${Math.round(box.width)} x ${Math.round(box.height)} px, slide ${Math.round(own.width)} px wide`);
            else if (!slide.checkVisibility({ visibilityProperty: true, opacityProperty: true })) problems.push(`slide ${i + 1} is hidden`);
            else if (box.top < previousTop + 99) problems.push(`slide ${i + 1} is not below slide ${i}`);
            else onPages++;
            previousTop = box.top;
          });
          const waiting = root.querySelectorAll('.fragment').length;
          if (waiting > 0) problems.push(`${waiting} fragments would appear only step by step`);
          // Scrolling to the end shows the last slide.
          const viewport = document.querySelector('.reveal-viewport') || document.scrollingElement;
          viewport.scrollTop = viewport.scrollHeight;
          await new Promise(r => setTimeout(r, 300));
          const last = leaves[leaves.length - 1], at = Reveal.getIndices();
          if (last && (at.h !== Reveal.getIndices(last).h || (at.v || 0) !== (Reveal.getIndices(last).v || 0)))
            problems.push(`scrolled to the end, reveal.js is at slide h ${at.h}, v ${at.v || 0}, not the last one`);
          viewport.scrollTop = 0;
          await new Promise(r => setTimeout(r, 50));
          return { total: Reveal.getTotalSlides(), onPages, problems };
        }
        """;

    static readonly Lazy<string> LegibilityScript = new(() =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Slides", "legibility.js")));

    /// <summary>
    /// Visits every leaf slide with all its fragments shown and lists, as "slide N (h H, v V): problem: element",
    /// what overflows the 1280 x 720 canvas or the footer and what text renders below 14 px (legibility.js).
    /// </summary>
    public static async Task<(int Slides, List<string> Problems)> CheckLegibilityAsync(IPage page)
    {
        var result = await page.EvaluateAsync<JsonElement>(LegibilityScript.Value);
        var problems = result.GetProperty("problems").EnumerateArray()
            .Select(p => $"{p.GetProperty("where").GetString()}: {p.GetProperty("kind").GetString()}: {p.GetProperty("detail").GetString()}")
            .ToList();
        return (result.GetProperty("slides").GetInt32(), problems);
    }

    /// <summary>Loads a deck from disk and waits until reveal.js is ready.</summary>
    public static async Task OpenAsync(IPage page, string deckPath, string query = "")
    {
        await page.GotoAsync(new Uri(deckPath).AbsoluteUri + query, new() { WaitUntil = WaitUntilState.Load });
        await page.WaitForFunctionAsync("() => window.Reveal && Reveal.isReady()", null, new() { Timeout = 30_000 });
        await page.EvaluateAsync("() => Reveal.configure({ transition: 'none', backgroundTransition: 'none' })");
        // Fragments fade in; screenshots should show them fully.
        await page.AddStyleTagAsync(new() { Content = ".reveal .slides section .fragment { transition: none !important; }" });
    }

    static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString() ?? "").ToList();

    /// <summary>Steps through every fragment and slide from the start; counts the leaf slides it reached.</summary>
    const string WalkScript = """
        () => {
          Reveal.slide(0, 0, -1);
          const seen = new Set();
          const where = () => { const i = Reveal.getIndices(); return i.h + '/' + (i.v || 0); };
          let steps = 0, state = JSON.stringify(Reveal.getIndices());
          seen.add(where());
          while (steps < 5000) {
            Reveal.next();
            const next = JSON.stringify(Reveal.getIndices());
            if (next === state) break;
            state = next; steps++;
            seen.add(where());
          }
          return { total: Reveal.getTotalSlides(), visited: seen.size, steps };
        }
        """;

    /// <summary>Plots drawn, maths typeset, no TeX left in visible text.</summary>
    const string ChecksScript = """
        () => {
          const root = document.querySelector('.reveal .slides');
          const figures = [...root.querySelectorAll('.course-figure')];
          const plots = [...root.querySelectorAll('.js-plotly-plot')];
          const drawn = el => el.querySelector('svg.main-svg') !== null && el.querySelectorAll('.main-svg .trace, .main-svg .hm').length > 0;
          const undrawn = plots.filter(p => !drawn(p)).map(p => p.id || '(no id)')
            .concat(figures.filter(f => f.querySelector('.js-plotly-plot') === null).map(f => 'figure without a plot: ' + f.textContent.slice(0, 60)));
          const rawTex = [];
          const tex = /\$(?!\s)[^$\n]+?(?<!\s)\$|\\\(|\\\[/;
          for (const slide of root.querySelectorAll('section:not(.stack)')) {
            const copy = slide.cloneNode(true);
            copy.querySelectorAll('pre, code, script, style, .katex, aside.notes, .js-plotly-plot').forEach(e => e.remove());
            const text = copy.textContent.replace(/\s+/g, ' ');
            const match = text.match(tex);
            if (match) rawTex.push(text.slice(Math.max(0, match.index - 30), match.index + 50));
          }
          return {
            figures: figures.length, plots: plots.length, undrawn,
            math: root.querySelectorAll('.math').length,
            katex: root.querySelectorAll('.katex').length,
            katexErrors: root.querySelectorAll('.katex-error').length,
            rawTex
          };
        }
        """;

    /// <summary>A few slides worth looking at: the title, the first chart, the first table and the first display maths.</summary>
    const string PickSlidesScript = """
        () => {
          const leaves = [...document.querySelectorAll('.reveal .slides section:not(.stack)')];
          const picks = [];
          const add = (slide, why) => {
            if (!slide) return;
            const i = Reveal.getIndices(slide);
            if (!picks.some(p => p.h === i.h && p.v === (i.v || 0))) picks.push({ h: i.h, v: i.v || 0, why });
          };
          add(leaves[0], 'title');
          add(leaves.find(s => s.querySelector('.js-plotly-plot')), 'chart');
          add(leaves.find(s => s.querySelector('.output table')), 'table');
          add(leaves.find(s => s.querySelector('.katex-display')), 'maths');
          return picks;
        }
        """;

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
