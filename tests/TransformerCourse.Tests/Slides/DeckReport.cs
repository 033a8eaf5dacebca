namespace TransformerCourse.Tests.Slides;

/// <summary>What a deck did in the browser, collected by <see cref="DeckBrowser"/>.</summary>
public sealed record DeckReport
{
    public required string Deck { get; init; }
    public required IReadOnlyList<string> ConsoleErrors { get; init; }
    public required IReadOnlyList<string> FailedRequests { get; init; }
    /// <summary>Requests for anything but a file:// URL (all aborted: the deck must work offline).</summary>
    public required IReadOnlyList<string> BlockedRequests { get; init; }
    public required int TotalSlides { get; init; }
    public required int VisitedSlides { get; init; }
    public required int Steps { get; init; }
    public required int Figures { get; init; }
    public required int Plots { get; init; }
    /// <summary>Plots (or figures) with no drawn svg.main-svg and no trace in it.</summary>
    public required IReadOnlyList<string> UndrawnPlots { get; init; }
    public required int MathElements { get; init; }
    public required int KatexElements { get; init; }
    public required int KatexErrors { get; init; }
    /// <summary>Visible text that still looks like TeX ($…$, \(…\), \[…\]), outside code.</summary>
    public required IReadOnlyList<string> RawTex { get; init; }
    public required IReadOnlyList<string> Screenshots { get; init; }
    /// <summary>Slides that do not fit the canvas, run into the footer or show text below 14 px (legibility.js), one line each.</summary>
    public required IReadOnlyList<string> Legibility { get; init; }
    /// <summary>For a page of the reading edition: what is wrong with its scroll view (slides off their pages, hidden fragments…).</summary>
    public IReadOnlyList<string> ScrollLayout { get; init; } = [];
    /// <summary>Leaf slides after slides.js continued the long ones.</summary>
    public required int LaidOutSlides { get; init; }

    /// <summary>Everything that went wrong, one line each, for assertion messages.</summary>
    public IEnumerable<string> Problems =>
        ConsoleErrors.Select(e => "console error: " + e)
            .Concat(FailedRequests.Select(r => "failed request: " + r))
            .Concat(BlockedRequests.Select(r => "blocked (non-file) request: " + r))
            .Concat(UndrawnPlots.Select(p => "plot not drawn: " + p))
            .Concat(RawTex.Select(t => "untypeset TeX: " + t))
            .Concat(ScrollLayout.Select(p => "scroll view: " + p))
            .Concat(Legibility)
            .Concat(KatexErrors > 0 ? [$"{KatexErrors} KaTeX errors"] : [])
            .Concat(VisitedSlides != TotalSlides ? [$"walked {VisitedSlides} of {TotalSlides} slides"] : []);
}
