using System.Text.RegularExpressions;

namespace TransformerCourse.Tokenization;

/// <summary>
/// Splits text into the pieces that byte-pair merges may not cross. GPT-2's rule (Radford et al., 2019, and its
/// released <c>encoder.py</c>): English contractions, a run of letters or of digits or of other symbols (each may
/// take one leading space), and runs of whitespace. Every character lands in exactly one piece, so joining the
/// pieces gives the text back.
/// </summary>
public sealed class RegexPretokenizer
{
    /// <summary>GPT-2's pre-tokenisation pattern, character for character.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    readonly Regex regex;

    public RegexPretokenizer(string pattern)
    {
        if (string.IsNullOrEmpty(pattern)) throw new ArgumentException("pattern must not be empty.", nameof(pattern));
        Pattern = pattern;
        regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
    }

    /// <summary>The pre-tokeniser GPT-2 uses.</summary>
    public static RegexPretokenizer Gpt2 { get; } = new(Gpt2Pattern);

    public string Pattern { get; }

    /// <summary>The pieces of <paramref name="text"/> in order. Characters the pattern does not match (none for GPT-2's) become pieces of their own.</summary>
    public IEnumerable<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int at = 0;
        for (var m = regex.Match(text); m.Success; m = m.NextMatch())
        {
            if (m.Length == 0) continue;
            if (m.Index > at) yield return text[at..m.Index];
            yield return m.Value;
            at = m.Index + m.Length;
        }
        if (at < text.Length) yield return text[at..];
    }
}
