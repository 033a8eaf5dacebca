using static TorchSharp.torch;

namespace TransformerCourse.FineTuning;

/// <summary>How texts become BERT inputs: a tokenizer for a piece of text and the ids of [CLS], [SEP] and [PAD].</summary>
/// <param name="Encode">Token ids of a piece of text (no special tokens).</param>
public sealed record BertInputFormat(Func<string, int[]> Encode, int ClsId, int SepId, int PadId, int MaxLength)
{
    /// <summary>Sub-word pieces of each word; every word but the first is encoded with its leading space, as it
    /// appears in running text (a byte-level BPE treats "␣Romeo" and "Romeo" as different tokens).</summary>
    public List<int[]> WordPieces(IReadOnlyList<string> words) =>
        words.Select((w, i) => Encode(i == 0 ? w : " " + w)).ToList();
}

/// <summary>
/// A labelled set as tensors: ids (N, T) laid out as <c>[CLS] tokens [SEP] [PAD]…</c>, the attention mask (N, T)
/// (true = real token) and the labels: (N) for sequence classification, (N, T) for tagging, where every position
/// without a label holds <see cref="SubwordAlignment.IgnoreIndex"/>. Texts longer than MaxLength − 2 tokens are cut.
/// </summary>
public sealed class EncodedSet : IDisposable
{
    public Tensor Ids { get; }
    public Tensor Mask { get; }
    public Tensor Labels { get; }
    public int Count => (int)Ids.shape[0];
    public bool PerToken => Labels.dim() == 2;

    public EncodedSet(Tensor ids, Tensor mask, Tensor labels)
    {
        if (ids.dim() != 2 || !mask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException($"ids must be (N, T) and mask the same shape, but they are {Guard.Shape(ids)} and {Guard.Shape(mask)}.", nameof(mask));
        if (labels.shape[0] != ids.shape[0] || labels.dim() > 2 || (labels.dim() == 2 && labels.shape[1] != ids.shape[1]))
            throw new ArgumentException($"labels must be (N) or (N, T) for ids {Guard.Shape(ids)} but is {Guard.Shape(labels)}.", nameof(labels));
        Ids = ids; Mask = mask; Labels = labels;
    }

    /// <summary>One label per text (sequence classification).</summary>
    public static EncodedSet ForSequences(IReadOnlyList<string> texts, IReadOnlyList<int> labels, BertInputFormat format)
    {
        if (texts.Count != labels.Count) throw new ArgumentException($"labels has {labels.Count} entries for {texts.Count} texts.", nameof(labels));
        var rows = texts.Select(t => format.Encode(t)).ToList();
        var (ids, mask, _) = Pack(rows, null, format);
        return new EncodedSet(ids, mask, tensor(labels.Select(l => (long)l).ToArray()));
    }

    /// <summary>One label per word (token classification); the labels are moved to the first piece of each word.</summary>
    public static EncodedSet ForTags(IReadOnlyList<IReadOnlyList<string>> words, IReadOnlyList<IReadOnlyList<int>> tags, BertInputFormat format)
    {
        if (words.Count != tags.Count) throw new ArgumentException($"tags has {tags.Count} entries for {words.Count} lines.", nameof(tags));
        var aligned = words.Select((w, i) => SubwordAlignment.Align(format.WordPieces(w), tags[i])).ToList();
        var (ids, mask, labels) = Pack(aligned.Select(a => a.Tokens).ToList(), aligned.Select(a => a.Labels).ToList(), format);
        return new EncodedSet(ids, mask, labels!);
    }

    static (Tensor Ids, Tensor Mask, Tensor? Labels) Pack(List<int[]> rows, List<int[]>? rowLabels, BertInputFormat format)
    {
        if (format.MaxLength < 3) throw new ArgumentException($"MaxLength must be at least 3 ([CLS], a token, [SEP]) but is {format.MaxLength}.", nameof(format));
        if (rows.Count == 0) throw new ArgumentException("There are no examples to encode.", nameof(rows));
        int n = rows.Count, t = Math.Min(format.MaxLength, rows.Max(r => r.Length) + 2);
        var ids = new long[n * t];
        var mask = new bool[n * t];
        var labels = rowLabels is null ? null : new long[n * t];
        for (int i = 0; i < n; i++)
        {
            var row = rows[i].Take(t - 2).ToArray();
            int at = i * t;
            Array.Fill(ids, format.PadId, at, t);
            if (labels is not null) Array.Fill(labels, SubwordAlignment.IgnoreIndex, at, t);
            ids[at] = format.ClsId;
            for (int j = 0; j < row.Length; j++)
            {
                ids[at + 1 + j] = row[j];
                if (labels is not null) labels[at + 1 + j] = rowLabels![i][j];
            }
            ids[at + 1 + row.Length] = format.SepId;
            for (int j = 0; j < row.Length + 2; j++) mask[at + j] = true;
        }
        return (tensor(ids, [n, t]), tensor(mask, [n, t]), labels is null ? null : tensor(labels, [n, t]));
    }

    /// <summary>The examples at the given indices (new tensors).</summary>
    public EncodedSet Subset(IReadOnlyList<int> indices)
    {
        using var index = tensor(indices.Select(i => (long)i).ToArray());
        return new EncodedSet(Ids.index_select(0, index), Mask.index_select(0, index), Labels.index_select(0, index));
    }

    /// <summary>The labels as integers: one per example, or for tagging every label that is not ignored.</summary>
    public int[] LabelValues()
    {
        var all = Labels.to_type(ScalarType.Int64).data<long>().ToArray();
        return all.Where(l => l != SubwordAlignment.IgnoreIndex).Select(l => (int)l).ToArray();
    }

    public void Dispose()
    {
        Ids.Dispose(); Mask.Dispose(); Labels.Dispose();
    }
}
