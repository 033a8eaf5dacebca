namespace TransformerCourse.Cli.Slides;

/// <summary>A lesson rendered as a reveal.js deck.</summary>
/// <param name="Title">The lesson title (the first cell's level-1 heading).</param>
/// <param name="Html">The whole HTML document.</param>
/// <param name="SlideCount">Leaf slides (horizontal and vertical).</param>
/// <param name="UsesPlotly">Whether the deck loads plotly.js.</param>
public sealed record SlideDeck(string Title, string Html, int SlideCount, bool UsesPlotly);
