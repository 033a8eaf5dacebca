using TransformerCourse.Tokenization;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>One next-sentence-prediction example: line A, line B and whether B is the line that follows A.</summary>
public sealed record LinePair(string A, string B, bool IsNext);

/// <summary>
/// Next-sentence-prediction pairs from a play text such as Tiny Shakespeare. The text is split into speeches (blocks
/// separated by a blank line; the speaker's name line is dropped). For every line that has a next line in its speech,
/// a coin with a fixed seed decides: heads, B is that next line (IsNext); tails, B is a random line of the same text
/// that is not the true next one (NotNext) — 50/50 as in Devlin et al. (2019).
/// </summary>
public static class SentencePairData
{
    /// <summary>The speeches of <paramref name="text"/>: each a list of its lines, the "NAME:" line removed.</summary>
    public static List<List<string>> Speeches(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var speeches = new List<List<string>>();
        foreach (var block in text.Replace("\r\n", "\n").Split("\n\n"))
        {
            var lines = block.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            // The first line of a block is the speaker ("PETRUCHIO:", "Servant:").
            if (lines.Count > 0 && lines[0].EndsWith(':')) lines.RemoveAt(0);
            if (lines.Count > 0) speeches.Add(lines);
        }
        return speeches;
    }

    /// <summary>The NSP pairs of <paramref name="text"/>, deterministic for a given <paramref name="seed"/>.</summary>
    public static List<LinePair> Pairs(string text, int seed)
    {
        var speeches = Speeches(text);
        var all = speeches.SelectMany(s => s).ToArray();
        if (all.Length < 3) throw new ArgumentException($"text has {all.Length} usable lines; NSP pairs need at least 3.", nameof(text));
        var random = new Random(seed);
        var pairs = new List<LinePair>();
        foreach (var speech in speeches)
            for (int i = 0; i + 1 < speech.Count; i++)
            {
                if (random.NextDouble() < 0.5) { pairs.Add(new LinePair(speech[i], speech[i + 1], true)); continue; }
                string other;
                do other = all[random.Next(all.Length)]; while (other == speech[i + 1] || other == speech[i]);
                pairs.Add(new LinePair(speech[i], other, false));
            }
        return pairs;
    }

    /// <summary>
    /// [CLS] A [SEP] B [SEP] padded to <paramref name="maxLength"/>. When the pair is too long, tokens are cut from the
    /// end of the longer line first (BERT's truncate_seq_pair).
    /// </summary>
    public static SentencePair Encode(BytePairEncoder tokenizer, string a, string b, int maxLength)
    {
        if (maxLength < 5) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must leave room for [CLS], two [SEP] and a token of each line (≥ 5).");
        var first = tokenizer.Encode(a).ToList();
        var second = tokenizer.Encode(b).ToList();
        while (first.Count + second.Count + 3 > maxLength)
        {
            var longer = first.Count >= second.Count ? first : second;
            longer.RemoveAt(longer.Count - 1);
        }
        int cls = tokenizer.SpecialId("[CLS]"), sep = tokenizer.SpecialId("[SEP]"), pad = tokenizer.SpecialId("[PAD]");
        var ids = new List<int> { cls };
        ids.AddRange(first);
        ids.Add(sep);
        var segments = Enumerable.Repeat(0, ids.Count).ToList();
        ids.AddRange(second);
        ids.Add(sep);
        segments.AddRange(Enumerable.Repeat(1, second.Count + 1));
        var real = Enumerable.Repeat(true, ids.Count).ToList();
        while (ids.Count < maxLength) { ids.Add(pad); segments.Add(0); real.Add(false); }
        return new SentencePair([.. ids], [.. segments], [.. real]);
    }
}
