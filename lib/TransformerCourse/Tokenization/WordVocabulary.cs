namespace TransformerCourse.Tokenization;

/// <summary>
/// The word-level baseline: one token per distinct pre-token piece seen in training, plus one [UNK] for every
/// piece never seen. Its vocabulary grows with the corpus and it cannot spell a new word.
/// </summary>
public sealed class WordVocabulary
{
    readonly Dictionary<string, int> ids = [];

    public WordVocabulary(string trainingText, RegexPretokenizer pretokenizer)
    {
        ArgumentNullException.ThrowIfNull(trainingText);
        Pretokenizer = pretokenizer;
        ids["[UNK]"] = 0;
        foreach (var piece in pretokenizer.Split(trainingText)) ids.TryAdd(piece, ids.Count);
    }

    public RegexPretokenizer Pretokenizer { get; }

    /// <summary>Distinct training pieces plus [UNK].</summary>
    public int VocabSize => ids.Count;

    /// <summary>Ids of <paramref name="text"/>; pieces not seen in training become 0 ([UNK]).</summary>
    public int[] Encode(string text) => Pretokenizer.Split(text).Select(p => ids.GetValueOrDefault(p, 0)).ToArray();

    /// <summary>How many tokens <paramref name="text"/> takes and how many of them are [UNK].</summary>
    public (int Tokens, int Unknown) Count(string text)
    {
        var encoded = Encode(text);
        return (encoded.Length, encoded.Count(id => id == 0));
    }
}
