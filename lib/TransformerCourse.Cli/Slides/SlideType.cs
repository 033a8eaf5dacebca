using System.Text.Json.Nodes;

namespace TransformerCourse.Cli.Slides;

/// <summary>A cell's role in the slideshow (Jupyter's <c>metadata.slideshow.slide_type</c>).</summary>
public enum SlideType
{
    /// <summary><c>-</c> or no metadata: the cell continues the current slide.</summary>
    Continue,
    /// <summary>Starts a new horizontal slide.</summary>
    Slide,
    /// <summary>Starts a new vertical slide below the current one.</summary>
    Subslide,
    /// <summary>Appears on the current slide on the next step.</summary>
    Fragment,
    /// <summary>Left out of the deck.</summary>
    Skip,
    /// <summary>Speaker notes for the current slide.</summary>
    Notes,
}

public static class SlideTypes
{
    public static SlideType Of(JsonObject cell) => ((string?)cell["metadata"]?["slideshow"]?["slide_type"]) switch
    {
        "slide" => SlideType.Slide,
        "subslide" => SlideType.Subslide,
        "fragment" => SlideType.Fragment,
        "skip" => SlideType.Skip,
        "notes" => SlideType.Notes,
        _ => SlideType.Continue,
    };
}
