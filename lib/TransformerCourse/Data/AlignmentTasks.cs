using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Data;

/// <summary>Source tokens (batch, L_src) and target tokens (batch, L_tgt), both int64.</summary>
public sealed record SequenceBatch(Tensor Source, Tensor Target) : IDisposable
{
    public void Dispose()
    {
        Source.Dispose();
        Target.Dispose();
    }
}

/// <summary>A seeded generator of synthetic sequence-to-sequence examples.</summary>
public interface ISequenceTask
{
    int VocabSize { get; }
    int SourceLength { get; }
    int TargetLength { get; }
    SequenceBatch Sample(int batchSize);
}

/// <summary>Output the source backwards: target[i] = source[L−1−i]. The ideal alignment is the anti-diagonal.</summary>
public sealed class ReversalTask : ISequenceTask
{
    private readonly Random random;

    public ReversalTask(int vocabSize, int length, int seed)
    {
        Guard.Positive(vocabSize, nameof(vocabSize));
        Guard.Positive(length, nameof(length));
        (VocabSize, SourceLength, random) = (vocabSize, length, new Random(seed));
    }

    public int VocabSize { get; }
    public int SourceLength { get; }
    public int TargetLength => SourceLength;

    public SequenceBatch Sample(int batchSize)
    {
        Guard.Positive(batchSize, nameof(batchSize));
        var src = new long[batchSize * SourceLength];
        var tgt = new long[src.Length];
        for (int b = 0; b < batchSize; b++)
            for (int i = 0; i < SourceLength; i++)
                src[b * SourceLength + i] = random.Next(VocabSize);
        for (int b = 0; b < batchSize; b++)
            for (int i = 0; i < SourceLength; i++)
                tgt[b * SourceLength + i] = src[b * SourceLength + SourceLength - 1 - i];
        return new SequenceBatch(tensor(src).reshape(batchSize, SourceLength), tensor(tgt).reshape(batchSize, SourceLength));
    }
}

/// <summary>
/// Key–value retrieval: the source is k₁ v₁ k₂ v₂ … k_n v_n q with distinct keys, and the target is the
/// value stored under q. Keys use ids 0..numKeys−1, values numKeys..numKeys+numValues−1.
/// </summary>
public sealed class KeyValueRetrievalTask : ISequenceTask
{
    private readonly Random random;
    private readonly int pairs, numKeys, numValues;

    public KeyValueRetrievalTask(int pairs, int numKeys, int numValues, int seed)
    {
        Guard.Positive(pairs, nameof(pairs));
        Guard.Positive(numValues, nameof(numValues));
        if (numKeys < pairs)
            throw new ArgumentException($"numKeys ({numKeys}) must be at least pairs ({pairs}) so keys can be distinct.", nameof(numKeys));
        (this.pairs, this.numKeys, this.numValues, random) = (pairs, numKeys, numValues, new Random(seed));
    }

    public int VocabSize => numKeys + numValues;
    public int SourceLength => 2 * pairs + 1;
    public int TargetLength => 1;

    public SequenceBatch Sample(int batchSize)
    {
        Guard.Positive(batchSize, nameof(batchSize));
        var src = new long[batchSize * SourceLength];
        var tgt = new long[batchSize];
        var keys = Enumerable.Range(0, numKeys).ToArray();
        for (int b = 0; b < batchSize; b++)
        {
            random.Shuffle(keys);
            int row = b * SourceLength, asked = random.Next(pairs);
            for (int p = 0; p < pairs; p++)
            {
                src[row + 2 * p] = keys[p];
                src[row + 2 * p + 1] = numKeys + random.Next(numValues);
            }
            src[row + 2 * pairs] = keys[asked];
            tgt[b] = src[row + 2 * asked + 1];
        }
        return new SequenceBatch(tensor(src).reshape(batchSize, SourceLength), tensor(tgt).reshape(batchSize, 1));
    }

    /// <summary>
    /// The best answer that ignores the question: the value stored most often in the dictionary (ties go to
    /// the one stored first). Any model that does not use the question token can do no better on average.
    /// </summary>
    /// <param name="source">(batch, 2·pairs + 1) sources of this task.</param>
    /// <returns>(batch, 1) value ids.</returns>
    public Tensor MostFrequentValue(Tensor source)
    {
        Guard.RankExactly(source, 2, nameof(source), "batch, 2·pairs + 1");
        if (source.shape[1] != SourceLength)
            throw new ArgumentException($"source has length {source.shape[1]} but this task's sources have length {SourceLength}.", nameof(source));
        var ids = source.cpu().data<long>().ToArray();
        long batch = source.shape[0];
        var guess = new long[batch];
        for (long b = 0; b < batch; b++)
        {
            var values = Enumerable.Range(0, pairs).Select(p => ids[b * SourceLength + 2 * p + 1]).ToArray();
            guess[b] = values.OrderByDescending(v => values.Count(w => w == v)).First();   // OrderBy is stable: first stored wins ties
        }
        return tensor(guess, dtype: ScalarType.Int64).reshape(batch, 1);
    }

    /// <summary>Whether the most frequent value of each dictionary is unique (no tie), (batch) bool.</summary>
    public Tensor MostFrequentValueIsUnique(Tensor source)
    {
        Guard.RankExactly(source, 2, nameof(source), "batch, 2·pairs + 1");
        var ids = source.cpu().data<long>().ToArray();
        long batch = source.shape[0];
        var unique = new bool[batch];
        for (long b = 0; b < batch; b++)
        {
            var counts = Enumerable.Range(0, pairs).Select(p => ids[b * SourceLength + 2 * p + 1]).GroupBy(v => v).Select(g => g.Count()).OrderDescending().ToArray();
            unique[b] = counts.Length == 1 || counts[0] > counts[1];
        }
        return tensor(unique);
    }
}
