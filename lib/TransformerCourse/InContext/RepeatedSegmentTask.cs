using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.InContext;

/// <summary>
/// Sequences (batch, T) of random tokens whose last <c>L</c> tokens repeat an earlier run of <c>L</c> tokens, and, per
/// row, where that first copy starts and how long it is. The second copy fills positions T − L … T − 1.
/// </summary>
public sealed record RepeatedSegmentBatch(Tensor Tokens, long[] Starts, long[] Lengths) : IDisposable
{
    public int Count => Starts.Length;

    public void Dispose() => Tokens.Dispose();
}

/// <summary>
/// The induction-head task. Each sequence of <paramref name="Length"/> tokens is built as: T − L tokens drawn
/// independently and uniformly from the vocabulary, then the last L of them once more, with the segment length L drawn
/// uniformly from [<paramref name="MinSegment"/>, <paramref name="MaxSegment"/>] for every sequence. Every token of the
/// second copy occurred L positions earlier; because L varies, that distance cannot be read off a token's position.
/// </summary>
public sealed record RepeatedSegmentTask(int VocabSize, int Length, int MinSegment, int MaxSegment)
{
    /// <summary>Throws ArgumentException naming the field when no sequence can be built.</summary>
    public RepeatedSegmentTask Validated()
    {
        if (MinSegment < 2) throw new ArgumentException($"MinSegment must be at least 2 but is {MinSegment}.", nameof(MinSegment));
        if (MaxSegment < MinSegment) throw new ArgumentException($"MaxSegment ({MaxSegment}) must be at least MinSegment ({MinSegment}).", nameof(MaxSegment));
        if (2 * MaxSegment > Length)
            throw new ArgumentException($"Length ({Length}) must hold two copies of the longest segment (2 × {MaxSegment}).", nameof(Length));
        if (VocabSize < 2) throw new ArgumentException($"VocabSize must be at least 2 but is {VocabSize}.", nameof(VocabSize));
        return this;
    }

    /// <summary><paramref name="count"/> sequences with segment lengths drawn from the task's range.</summary>
    public RepeatedSegmentBatch Sample(int count, Random random, Device? device = null)
    {
        Validated();
        Guard.Positive(count, nameof(count));
        var lengths = Enumerable.Range(0, count).Select(_ => (long)random.Next(MinSegment, MaxSegment + 1)).ToArray();
        return Build(lengths, random, device);
    }

    /// <summary><paramref name="count"/> sequences that all repeat a segment of exactly <paramref name="segmentLength"/> tokens.</summary>
    public RepeatedSegmentBatch SampleWithSegment(int count, int segmentLength, Random random, Device? device = null)
    {
        Validated();
        Guard.Positive(count, nameof(count));
        if (segmentLength < MinSegment || segmentLength > MaxSegment)
            throw new ArgumentOutOfRangeException(nameof(segmentLength), segmentLength, $"segmentLength must be in [{MinSegment}, {MaxSegment}] but is {segmentLength}.");
        return Build(Enumerable.Repeat((long)segmentLength, count).ToArray(), random, device);
    }

    RepeatedSegmentBatch Build(long[] lengths, Random random, Device? device)
    {
        var tokens = new long[lengths.Length * Length];
        var starts = new long[lengths.Length];
        for (int b = 0; b < lengths.Length; b++)
        {
            int segment = (int)lengths[b], fresh = Length - segment;
            for (int i = 0; i < fresh; i++) tokens[b * Length + i] = random.Next(VocabSize);
            starts[b] = fresh - segment;
            for (int i = 0; i < segment; i++) tokens[b * Length + fresh + i] = tokens[b * Length + starts[b] + i];
        }
        var t = tensor(tokens, new long[] { lengths.Length, Length });
        if (device is not null && device.type != DeviceType.CPU)
        {
            var moved = t.to(device);
            t.Dispose();
            t = moved;
        }
        return new RepeatedSegmentBatch(t, starts, lengths);
    }
}
