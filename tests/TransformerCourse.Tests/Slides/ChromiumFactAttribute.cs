namespace TransformerCourse.Tests.Slides;

/// <summary>A test that needs the system's Chromium; skipped, saying why, only when it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!File.Exists(DeckBrowser.ChromiumPath))
            Skip = $"Chromium is not installed at {DeckBrowser.ChromiumPath}, so the slide decks cannot be checked in a browser. " +
                   "Install it with `apt-get install -y chromium` (CI's .ci/run does).";
    }
}
