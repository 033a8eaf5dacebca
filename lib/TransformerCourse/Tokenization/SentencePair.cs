namespace TransformerCourse.Tokenization;

/// <summary>
/// BERT's input for one or two segments (Devlin et al., 2019): <c>[CLS] A [SEP]</c> or <c>[CLS] A [SEP] B [SEP]</c>,
/// padded with [PAD] to a fixed length. Segment ids are 0 for [CLS], A and the first [SEP], 1 for B and the
/// second [SEP], and 0 for padding; the attention mask is true for real tokens and false for [PAD].
/// </summary>
public sealed record SentencePair(int[] Ids, int[] Segments, bool[] AttentionMask)
{
    public static readonly string[] SpecialNames = ["[PAD]", "[CLS]", "[SEP]", "[MASK]"];

    public int Length => Ids.Length;

    /// <summary>Encodes <paramref name="first"/> (and <paramref name="second"/> when given) with <paramref name="tokenizer"/>,
    /// which must have the special tokens [PAD], [CLS] and [SEP].</summary>
    public static SentencePair Encode(BytePairEncoder tokenizer, string first, string? second, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var a = tokenizer.Encode(first);
        var b = second is null ? [] : tokenizer.Encode(second);
        int cls = tokenizer.SpecialId("[CLS]"), sep = tokenizer.SpecialId("[SEP]"), pad = tokenizer.SpecialId("[PAD]");
        var ids = new List<int> { cls };
        ids.AddRange(a);
        ids.Add(sep);
        var segments = Enumerable.Repeat(0, ids.Count).ToList();
        if (second is not null)
        {
            ids.AddRange(b);
            ids.Add(sep);
            segments.AddRange(Enumerable.Repeat(1, b.Length + 1));
        }
        if (ids.Count > maxLength)
            throw new ArgumentException($"The pair needs {ids.Count} tokens with [CLS] and [SEP] but maxLength is {maxLength}.", nameof(maxLength));
        var mask = Enumerable.Repeat(true, ids.Count).ToList();
        while (ids.Count < maxLength) { ids.Add(pad); segments.Add(0); mask.Add(false); }
        return new SentencePair([.. ids], [.. segments], [.. mask]);
    }
}
