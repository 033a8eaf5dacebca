using Markdig.Extensions.Mathematics;
using Markdig.Renderers;
using Markdig.Renderers.Html;

namespace TransformerCourse.Cli.Slides;

/// <summary>
/// Markdig parses <c>$$…$$</c> written on one line as inline maths and writes it as <c>\(…\)</c>, which
/// would typeset a lesson's centred equation in the middle of the text. This renderer keeps the author's
/// intent: two dollar signs give display maths, <c>\[…\]</c> with the classes <c>math display</c>.
/// </summary>
public sealed class DisplayMathInlineRenderer : HtmlObjectRenderer<MathInline>
{
    protected override void Write(HtmlRenderer renderer, MathInline math)
    {
        var display = math.DelimiterCount >= 2;
        if (display) math.GetAttributes().AddClass("display");
        renderer.Write("<span").WriteAttributes(math).Write(display ? ">\\[" : ">\\(");
        renderer.WriteEscape(ref math.Content);
        renderer.Write(display ? "\\]</span>" : "\\)</span>");
    }
}
