using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Generation;

/// <summary>
/// A floor for sample quality: text generated from character-pair counts alone. The next token is drawn from the
/// training text's counts of what followed the previous token, turned into logits (ln count) and sampled by
/// <see cref="TextSampler.NextToken"/>, so temperature, top-k and the seeded generator act exactly as they do for a model.
/// </summary>
public sealed class BigramSampler : IDisposable
{
    readonly Tensor logits;   // (V, V): ln count(next | previous); −∞ for pairs never seen, 0 for a row never seen

    /// <param name="train">1-D int64 token ids of the training text.</param>
    /// <param name="vocabSize">Number of token ids V; every id in <paramref name="train"/> must be below it.</param>
    public BigramSampler(Tensor train, int vocabSize)
    {
        if (vocabSize <= 0) throw new ArgumentException($"vocabSize must be positive but is {vocabSize}.", nameof(vocabSize));
        if (train.dim() != 1 || train.dtype != ScalarType.Int64 || train.shape[0] < 2)
            throw new ArgumentException($"train must be a 1-D int64 tensor of at least 2 token ids but is {train.dtype} with shape {Guard.Shape(train)}.", nameof(train));
        using var scope = NewDisposeScope();
        var cpuTrain = train.cpu();
        long largest = cpuTrain.max().item<long>(), smallest = cpuTrain.min().item<long>();
        if (smallest < 0 || largest >= vocabSize)
            throw new ArgumentException($"train holds ids from {smallest} to {largest}, outside 0 … {vocabSize - 1} (vocabSize {vocabSize}).", nameof(train));
        var counts = (cpuTrain[..^1] * vocabSize + cpuTrain[1..]).bincount(null, minlength: vocabSize * vocabSize)
            .to_type(ScalarType.Float64).view(vocabSize, vocabSize);
        var unseenRow = counts.sum(1, keepdim: true).eq(0);   // a token that never occurs before another: uniform next token
        logits = counts.masked_fill(unseenRow, 1).log().to_type(ScalarType.Float32).MoveToOuterDisposeScope();
        VocabSize = vocabSize;
    }

    public int VocabSize { get; }

    /// <summary>Appends <paramref name="count"/> tokens to <paramref name="prompt"/>, each drawn given the one before it.</summary>
    public long[] Generate(long[] prompt, int count, SamplingOptions options, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Length == 0) throw new ArgumentException("prompt must contain at least one token.", nameof(prompt));
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be non-negative.");
        foreach (var id in prompt)
            if (id < 0 || id >= VocabSize) throw new ArgumentException($"prompt holds token id {id}, outside 0 … {VocabSize - 1}.", nameof(prompt));
        var tokens = new List<long>(prompt);
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            tokens.Add(TextSampler.NextToken(logits[tokens[^1]], options, generator).item<long>());
        }
        return tokens.ToArray();
    }

    public void Dispose() => logits.Dispose();
}
