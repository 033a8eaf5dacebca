namespace TransformerCourse.FineTuning;

/// <summary>One speech of Tiny Shakespeare: the speaker's heading (without the colon) and the lines spoken.</summary>
public sealed record Speech(int Index, string Speaker, string[] Lines);

/// <summary>Splits Tiny Shakespeare into speeches. The file is a list of blocks separated by a blank line; each block
/// starts with a heading such as <c>ROMEO:</c> and continues with the lines of that speech.</summary>
public static class ShakespeareSpeeches
{
    public static List<Speech> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var speeches = new List<Speech>();
        foreach (var block in text.Replace("\r\n", "\n").Split("\n\n"))
        {
            var lines = block.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length < 2 || !lines[0].EndsWith(':')) continue;
            speeches.Add(new Speech(speeches.Count, lines[0][..^1].Trim(), lines[1..]));
        }
        return speeches;
    }
}
