using Markdig;
using Markdig.Extensions.Mathematics;
using Markdig.Renderers;

namespace TransformerCourse.Cli.Slides;

/// <summary>
/// Markdown cells to HTML with Markdig. Maths stays as TeX: <c>$…$</c> becomes
/// <c>&lt;span class="math"&gt;\(…\)&lt;/span&gt;</c> and <c>$$…$$</c> display maths <c>\[…\]</c>, which the deck's
/// script typesets with KaTeX; Markdig's maths extension keeps emphasis rules away from subscripts.
/// </summary>
public static class MarkdownRenderer
{
    static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UseMathematics()
        .UsePipeTables()
        .UseEmphasisExtras()
        .UseAutoLinks()
        .UseTaskLists()
        .Build();

    public static string ToHtml(string markdown)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        Pipeline.Setup(renderer);
        renderer.ObjectRenderers.ReplaceOrAdd<HtmlMathInlineRenderer>(new DisplayMathInlineRenderer());
        renderer.Render(document);
        writer.Flush();
        return writer.ToString();
    }
}
