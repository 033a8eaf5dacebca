namespace TransformerCourse.Data;

/// <summary>One token per distinct character, ids in sorted character order (as in nanoGPT's shakespeare_char).</summary>
public sealed class CharTokenizer
{
    private readonly char[] symbols;
    private readonly Dictionary<char, int> ids;

    public CharTokenizer(IEnumerable<char> alphabet)
    {
        symbols = alphabet.Distinct().Order().ToArray();
        if (symbols.Length == 0) throw new ArgumentException("The alphabet is empty.", nameof(alphabet));
        ids = symbols.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
    }

    public static CharTokenizer FromText(string text) => new(text);

    public int VocabSize => symbols.Length;

    public IReadOnlyList<char> Symbols => symbols;

    public long[] Encode(string text)
    {
        var result = new long[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (!ids.TryGetValue(text[i], out var id))
                throw new ArgumentException(
                    $"Character {Describe(text[i])} at position {i} is not in the tokenizer's {symbols.Length}-symbol vocabulary.", nameof(text));
            result[i] = id;
        }
        return result;
    }

    public string Decode(IEnumerable<long> tokens) => new(tokens.Select(t =>
        t >= 0 && t < symbols.Length ? symbols[t] : throw new ArgumentOutOfRangeException(nameof(tokens), t, $"Token id {t} is outside 0..{symbols.Length - 1}.")).ToArray());

    static string Describe(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}' (U+{(int)c:X4})";
}
