namespace TransformerCourse.Data;

/// <summary>The ids of the three special tokens every sequence-to-sequence vocabulary needs.</summary>
public sealed record SpecialTokens(long Pad, long Bos, long Eos);

/// <summary>
/// A small word-level vocabulary: whole words ("forty", "march", "&lt;to-digits&gt;") are single tokens and
/// anything else is spelled with single-character tokens (digits, "-"). Ids 0, 1, 2 are &lt;pad&gt;, &lt;bos&gt;,
/// &lt;eos&gt;. Encode splits text on spaces; Decode joins words with spaces and runs of characters without, so
/// "15 march 2024" ↔ [1, 5, march, 2, 0, 2, 4] round-trips.
/// </summary>
public sealed class TranslationVocabulary
{
    public const string PadToken = "<pad>", BosToken = "<bos>", EosToken = "<eos>";

    private readonly Dictionary<string, long> ids = new(StringComparer.Ordinal);
    private readonly List<string> tokens = [];

    /// <param name="words">Multi-character tokens (no spaces).</param>
    /// <param name="characters">Single-character tokens used to spell everything else.</param>
    public TranslationVocabulary(IEnumerable<string> words, IEnumerable<char> characters)
    {
        foreach (var t in new[] { PadToken, BosToken, EosToken }) Add(t);
        foreach (var c in characters) Add(c.ToString());
        foreach (var w in words)
        {
            if (w.Length < 2 || w.Any(char.IsWhiteSpace))
                throw new ArgumentException($"word '{w}' must have at least two characters and no spaces.", nameof(words));
            Add(w);
        }
    }

    void Add(string token)
    {
        if (ids.ContainsKey(token)) throw new ArgumentException($"token '{token}' appears twice.", nameof(token));
        ids[token] = tokens.Count;
        tokens.Add(token);
    }

    public int Count => tokens.Count;
    public IReadOnlyList<string> Tokens => tokens;
    public SpecialTokens Special { get; } = new(0, 1, 2);

    public long Id(string token) => ids.TryGetValue(token, out var id) ? id
        : throw new ArgumentException($"'{token}' is not in the vocabulary of {Count} tokens.", nameof(token));

    /// <summary>Text → ids, without &lt;bos&gt; or &lt;eos&gt;.</summary>
    public long[] Encode(string text)
    {
        var result = new List<long>();
        foreach (var piece in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (ids.TryGetValue(piece, out var id)) { result.Add(id); continue; }
            foreach (var c in piece)
            {
                if (!ids.TryGetValue(c.ToString(), out var cid))
                    throw new ArgumentException($"text '{text}': '{piece}' is neither a word of the vocabulary nor spelled with its characters.", nameof(text));
                result.Add(cid);
            }
        }
        return [.. result];
    }

    /// <summary>Ids → text. &lt;pad&gt; and &lt;bos&gt; are skipped; decoding stops at the first &lt;eos&gt;.</summary>
    public string Decode(IEnumerable<long> tokenIds)
    {
        var text = new System.Text.StringBuilder();
        bool previousWasCharacter = false;
        foreach (var id in tokenIds)
        {
            if (id == Special.Eos) break;
            if (id == Special.Pad || id == Special.Bos) continue;
            if (id < 0 || id >= Count) throw new ArgumentException($"token id {id} is outside 0..{Count - 1}.", nameof(tokenIds));
            var token = tokens[(int)id];
            bool isCharacter = token.Length == 1;
            if (text.Length > 0 && !(isCharacter && previousWasCharacter)) text.Append(' ');
            text.Append(token);
            previousWasCharacter = isCharacter;
        }
        return text.ToString();
    }
}
