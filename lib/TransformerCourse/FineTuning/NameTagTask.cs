using System.Text.RegularExpressions;

namespace TransformerCourse.FineTuning;

/// <summary>One tagged line: its words (split at spaces, punctuation kept) and one tag per word (1 = a name).</summary>
public sealed record TaggedLine(string[] Words, int[] Tags, int SpeechIndex);

/// <summary>
/// The token-classification task of lesson 14: <b>which words of a line are character names?</b> The names are derived
/// from the corpus itself: a word of some speech heading (ROMEO, KING RICHARD III …) counts as a name when, inside the
/// dialogue, it is written capitalised (Romeo) at least 3 times and in at least 90 % of its occurrences; that keeps
/// Romeo and Warwick and drops heading words that are ordinary words (king, first, lady). A word is tagged 1 when its
/// letters form a name. The examples are the dialogue lines with at least one name; every fifth speech is held out for
/// testing, as in <see cref="SpeakerTask"/> (see datasets/speaker-lines.md).
/// </summary>
public sealed partial class NameTagTask
{
    public const int Other = 0, Name = 1;
    public static readonly string[] TagNames = ["other", "name"];

    public IReadOnlySet<string> Names { get; }
    public IReadOnlyList<TaggedLine> Train { get; }
    public IReadOnlyList<TaggedLine> Test { get; }

    private NameTagTask(IReadOnlySet<string> names, List<TaggedLine> train, List<TaggedLine> test)
    {
        Names = names;
        Train = train;
        Test = test;
    }

    [GeneratedRegex("[A-Za-z']+")]
    private static partial Regex WordPattern();

    /// <summary>The letters of a word without the punctuation around it ("Romeo," → "Romeo").</summary>
    public static string Core(string word) => word.Trim().Trim(ExceptLetters(word));

    static char[] ExceptLetters(string word) => word.Where(c => !char.IsLetter(c)).Distinct().ToArray();

    /// <summary>A rule with no learning, as a baseline: tag a word as a name when it starts with a capital letter, has
    /// at least two letters (not "I", not "O") and is not the first word of its line (verse lines start with a capital).</summary>
    public static int[] CapitalRule(IReadOnlyList<string> words) =>
        words.Select((w, i) => { var core = Core(w); return i > 0 && core.Length >= 2 && char.IsUpper(core[0]) ? Name : Other; }).ToArray();

    /// <summary>Lines as the word lists and tag lists <see cref="EncodedSet.ForTags"/> takes.</summary>
    public static (List<IReadOnlyList<string>> Words, List<IReadOnlyList<int>> Tags) Columns(IEnumerable<TaggedLine> lines)
    {
        var list = lines.ToList();
        return (list.Select(l => (IReadOnlyList<string>)l.Words).ToList(), list.Select(l => (IReadOnlyList<int>)l.Tags).ToList());
    }

    public static NameTagTask Build(string text)
    {
        var speeches = ShakespeareSpeeches.Parse(text);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in speeches.SelectMany(s => s.Lines))
            foreach (Match m in WordPattern().Matches(line))
                counts[m.Value] = counts.GetValueOrDefault(m.Value) + 1;
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var word in speeches.SelectMany(s => s.Speaker.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            if (!word.All(char.IsLetter) || word.Length < 2) continue;
            string title = char.ToUpperInvariant(word[0]) + word[1..].ToLowerInvariant();
            int capital = counts.GetValueOrDefault(title), lower = counts.GetValueOrDefault(word.ToLowerInvariant());
            if (capital >= 3 && capital >= 0.9 * (capital + lower)) names.Add(title);
        }
        var train = new List<TaggedLine>();
        var test = new List<TaggedLine>();
        foreach (var bySpeaker in speeches.GroupBy(s => s.Speaker))
        {
            int k = 0;
            foreach (var speech in bySpeaker)
            {
                var target = ++k % 5 == 0 ? test : train;
                foreach (var line in speech.Lines)
                {
                    var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    var tags = words.Select(w => names.Contains(Core(w)) ? Name : Other).ToArray();
                    if (tags.Contains(Name)) target.Add(new TaggedLine(words, tags, speech.Index));
                }
            }
        }
        // Stable order by position in the play (OrderBy keeps the order of lines within a speech).
        return new NameTagTask(names, [.. train.OrderBy(l => l.SpeechIndex)], [.. test.OrderBy(l => l.SpeechIndex)]);
    }
}
