using static TorchSharp.torch;

namespace TransformerCourse.Data;

/// <summary>
/// Three lookups for every position i of a random sequence x_0..x_{L−1}, read cyclically: its left neighbour
/// x_{(i−1) mod L}, its right neighbour x_{(i+1) mod L}, and the largest token of the whole sequence. Two lookups go
/// by position, one by content. Target (B, 3L), slot-major: the L left neighbours, then the L right neighbours,
/// then the largest token L times (the layout of <see cref="Models.SelfAttentionTagger"/>'s logits).
/// </summary>
public sealed class NeighboursAndMaxTask : ISequenceTask
{
    private readonly Random random;

    public NeighboursAndMaxTask(int vocabSize, int length, int seed)
    {
        Guard.Positive(vocabSize, nameof(vocabSize));
        if (length < 3) throw new ArgumentException($"length must be at least 3 (left and right neighbours must differ) but is {length}.", nameof(length));
        (VocabSize, SourceLength, random) = (vocabSize, length, new Random(seed));
    }

    /// <summary>The names of the three lookups, in target order.</summary>
    public static IReadOnlyList<string> Lookups { get; } = ["left neighbour", "right neighbour", "largest token"];

    /// <summary>Predictions per position: 3.</summary>
    public static int Slots => 3;

    public int VocabSize { get; }
    public int SourceLength { get; }
    public int TargetLength => Slots * SourceLength;

    public SequenceBatch Sample(int batchSize)
    {
        Guard.Positive(batchSize, nameof(batchSize));
        int length = SourceLength;
        var src = new long[batchSize * length];
        var tgt = new long[batchSize * TargetLength];
        for (int i = 0; i < src.Length; i++) src[i] = random.Next(VocabSize);
        for (int b = 0; b < batchSize; b++)
        {
            var row = src.AsSpan(b * length, length);
            long largest = 0;
            foreach (var t in row) largest = Math.Max(largest, t);
            int o = b * TargetLength;
            for (int i = 0; i < length; i++)
            {
                tgt[o + i] = row[(i - 1 + length) % length];
                tgt[o + length + i] = row[(i + 1) % length];
                tgt[o + 2 * length + i] = largest;
            }
        }
        return new SequenceBatch(tensor(src).reshape(batchSize, length), tensor(tgt).reshape(batchSize, TargetLength));
    }
}
