using TorchSharp;
using TransformerCourse.Tokenization;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>
/// One pretraining batch, trimmed to its longest pair (L ≤ MaxLength). <see cref="InputIds"/> is what the model reads (after masking); <see cref="OriginalIds"/> the
/// unmasked ids; <see cref="MlmLabels"/> the original id at the chosen positions and <see cref="MlmMasking.IgnoreIndex"/>
/// elsewhere; <see cref="NspLabels"/> 1 when B follows A, 0 when B is a random line. All (B, L) except NspLabels (B).
/// </summary>
public sealed record BertBatch(Tensor InputIds, Tensor Segments, Tensor AttentionMask, Tensor MlmLabels, Tensor NspLabels, Tensor OriginalIds)
{
    public long Size => InputIds.shape[0];
}

/// <summary>How an example's masked positions are chosen.</summary>
public enum MaskingMode
{
    /// <summary>A new mask every time the example is drawn (RoBERTa; Liu et al., 2019).</summary>
    Dynamic,
    /// <summary>The same mask every time (BERT's preprocessing).</summary>
    Static,
}

/// <summary>
/// Tokenised NSP pairs of one split, held as (N, L) tensors, and the batches drawn from them. Masking happens when a
/// batch is made, so <see cref="MaskingMode.Dynamic"/> gives fresh masks per batch.
/// </summary>
public sealed class BertExamples
{
    public BertExamples(BytePairEncoder tokenizer, IReadOnlyList<LinePair> pairs, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (pairs.Count == 0) throw new ArgumentException("pairs is empty.", nameof(pairs));
        Tokenizer = tokenizer;
        Pairs = pairs;
        MaxLength = maxLength;
        var encoded = pairs.Select(p => SentencePairData.Encode(tokenizer, p.A, p.B, maxLength)).ToArray();
        int n = encoded.Length;
        Ids = tensor(encoded.SelectMany(e => e.Ids.Select(i => (long)i)).ToArray(), [n, maxLength]);
        Segments = tensor(encoded.SelectMany(e => e.Segments.Select(i => (long)i)).ToArray(), [n, maxLength]);
        AttentionMask = tensor(encoded.SelectMany(e => e.AttentionMask).ToArray(), [n, maxLength]);
        IsNext = tensor(pairs.Select(p => p.IsNext ? 1L : 0L).ToArray());
        // Special tokens sit after the ordinary ones, so "ordinary" is "id below the first special id".
        Maskable = Ids.lt(BertTokenizer.OrdinaryTokens(tokenizer));
        foreach (var t in new[] { Ids, Segments, AttentionMask, IsNext, Maskable }) t.DetachFromDisposeScope();
    }

    public BytePairEncoder Tokenizer { get; }
    public IReadOnlyList<LinePair> Pairs { get; }
    public int MaxLength { get; }
    public int Count => Pairs.Count;

    /// <summary>(N, L) ids of [CLS] A [SEP] B [SEP] [PAD]….</summary>
    public Tensor Ids { get; }
    public Tensor Segments { get; }
    /// <summary>(N, L) bool: true for real tokens, false for [PAD].</summary>
    public Tensor AttentionMask { get; }
    /// <summary>(N) 1 = B follows A.</summary>
    public Tensor IsNext { get; }
    /// <summary>(N, L) bool: the positions masking may choose (ordinary tokens; never [CLS], [SEP], [PAD]).</summary>
    public Tensor Maskable { get; }

    /// <summary>A batch of <paramref name="size"/> examples drawn at random (with replacement) by <paramref name="generator"/>.</summary>
    public BertBatch Sample(int size, Generator generator, Device? device = null, MaskingMode mode = MaskingMode.Dynamic, MaskingRule? rule = null, long staticSeed = 0)
    {
        Guard.Positive(size, nameof(size));
        var rows = randint(0, Count, [size], generator: generator, dtype: ScalarType.Int64);
        return Batch(rows.data<long>().ToArray(), generator, device, mode, rule, staticSeed);
    }

    /// <summary>The batch of the examples <paramref name="rows"/>, masked as <paramref name="mode"/> says
    /// (dynamic masks are drawn with <paramref name="generator"/>).</summary>
    public BertBatch Batch(long[] rows, Generator? generator, Device? device = null, MaskingMode mode = MaskingMode.Dynamic, MaskingRule? rule = null, long staticSeed = 0)
    {
        if (rows.Length == 0) throw new ArgumentException("rows is empty.", nameof(rows));
        if (rows.Any(r => r < 0 || r >= Count)) throw new ArgumentException($"rows must lie in 0..{Count - 1}.", nameof(rows));
        using var scope = NewDisposeScope();
        var index = tensor(rows);
        // Trim the columns that are [PAD] in every row of the batch: fewer positions to compute, same result
        // (padding is masked out of attention and never a label).
        long used = AttentionMask.index_select(0, index).sum(dim: 0).nonzero().max().item<long>() + 1;
        var columns = TensorIndex.Slice(0, used);
        var ids = Ids.index_select(0, index)[.., columns];
        var maskable = Maskable.index_select(0, index)[.., columns];
        int maskId = Tokenizer.SpecialId("[MASK]"), ordinary = BertTokenizer.OrdinaryTokens(Tokenizer);
        var masked = mode == MaskingMode.Dynamic
            ? MlmMasking.Apply(ids, maskable, maskId, ordinary, generator, rule)
            : MlmMasking.ApplyStatic(ids, maskable, rows, maskId, ordinary, staticSeed, rule);
        device ??= CPU;
        var batch = new BertBatch(masked.Inputs.to(device), Segments.index_select(0, index)[.., columns].to(device),
            AttentionMask.index_select(0, index)[.., columns].to(device), masked.Labels.to(device), IsNext.index_select(0, index).to(device), ids.to(device));
        foreach (var t in new[] { batch.InputIds, batch.Segments, batch.AttentionMask, batch.MlmLabels, batch.NspLabels, batch.OriginalIds })
            t.MoveToOuterDisposeScope();
        return batch;
    }

    /// <summary>The whole split in order, in batches of <paramref name="batchSize"/>, each example with its static mask for
    /// <paramref name="seed"/>: the same masked tokens at every evaluation, so a held-out curve compares like with like.</summary>
    public List<BertBatch> FixedBatches(int batchSize, long seed, Device? device = null, int? limit = null)
    {
        Guard.Positive(batchSize, nameof(batchSize));
        int n = Math.Min(Count, limit ?? Count);
        var batches = new List<BertBatch>();
        for (int start = 0; start < n; start += batchSize)
        {
            var rows = Enumerable.Range(start, Math.Min(batchSize, n - start)).Select(i => (long)i).ToArray();
            var b = Batch(rows, null, device, MaskingMode.Static, null, seed);
            foreach (var t in new[] { b.InputIds, b.Segments, b.AttentionMask, b.MlmLabels, b.NspLabels, b.OriginalIds }) t.DetachFromDisposeScope();
            batches.Add(b);
        }
        return batches;
    }
}

/// <summary>
/// The lesson-13 corpus: Tiny Shakespeare split at 90 % of its characters (at a line break) into training and
/// held-out text, the tokenizer trained on the training text, and the NSP pairs of each part, tokenised.
/// </summary>
public sealed class BertPretrainingData
{
    public BertPretrainingData(string text, BytePairEncoder tokenizer, int maxLength, int seed)
    {
        ArgumentNullException.ThrowIfNull(text);
        (TrainText, HeldOutText) = Split(text);
        Tokenizer = tokenizer;
        Train = new BertExamples(tokenizer, SentencePairData.Pairs(TrainText, seed), maxLength);
        HeldOut = new BertExamples(tokenizer, SentencePairData.Pairs(HeldOutText, seed + 1), maxLength);
    }

    public string TrainText { get; }
    public string HeldOutText { get; }
    public BytePairEncoder Tokenizer { get; }
    public BertExamples Train { get; }
    public BertExamples HeldOut { get; }

    /// <summary>First 90 % of the characters (cut at the following line break) for training, the rest held out —
    /// the same 90/10 split as the earlier lessons.</summary>
    public static (string Train, string HeldOut) Split(string text)
    {
        int cut = (int)(text.Length * 0.9);
        int newline = text.IndexOf('\n', cut);
        if (newline < 0) newline = cut;
        return (text[..newline], text[(newline + 1)..]);
    }
}
