using static TorchSharp.torch;

namespace TransformerCourse.Data;

/// <summary>
/// Output the source rearranged by a fixed permutation: target[i] = source[sourceIndex[i]]. Reversal is the
/// permutation L−1−i; a rotation by r is (i + r) mod L. The ideal alignment puts all of query i's weight on
/// key sourceIndex[i], so it is known in advance for any permutation.
/// </summary>
public sealed class PermutationTask : ISequenceTask
{
    private readonly Random random;
    private readonly int[] sourceIndex;

    public PermutationTask(int vocabSize, IReadOnlyList<int> sourceIndex, int seed)
    {
        Guard.Positive(vocabSize, nameof(vocabSize));
        if (sourceIndex.Count == 0) throw new ArgumentException("sourceIndex must have at least one position.", nameof(sourceIndex));
        var sorted = sourceIndex.Order().ToArray();
        if (!sorted.SequenceEqual(Enumerable.Range(0, sourceIndex.Count)))
            throw new ArgumentException(
                $"sourceIndex must be a permutation of 0..{sourceIndex.Count - 1} but is [{string.Join(", ", sourceIndex)}].", nameof(sourceIndex));
        (VocabSize, this.sourceIndex, random) = (vocabSize, sourceIndex.ToArray(), new Random(seed));
    }

    /// <summary>target[i] = source[(i + shift) mod length].</summary>
    public static PermutationTask Rotation(int vocabSize, int length, int shift, int seed)
    {
        Guard.Positive(length, nameof(length));
        return new PermutationTask(vocabSize, Enumerable.Range(0, length).Select(i => ((i + shift) % length + length) % length).ToArray(), seed);
    }

    public int VocabSize { get; }
    public int SourceLength => sourceIndex.Length;
    public int TargetLength => sourceIndex.Length;

    /// <summary>Which source position each target position copies.</summary>
    public IReadOnlyList<int> SourceIndex => sourceIndex;

    public SequenceBatch Sample(int batchSize)
    {
        Guard.Positive(batchSize, nameof(batchSize));
        int length = sourceIndex.Length;
        var src = new long[batchSize * length];
        var tgt = new long[src.Length];
        for (int i = 0; i < src.Length; i++) src[i] = random.Next(VocabSize);
        for (int b = 0; b < batchSize; b++)
            for (int i = 0; i < length; i++)
                tgt[b * length + i] = src[b * length + sourceIndex[i]];
        return new SequenceBatch(tensor(src).reshape(batchSize, length), tensor(tgt).reshape(batchSize, length));
    }
}
