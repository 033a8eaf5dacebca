using TransformerCourse.Exercises;
using TransformerCourse.Gpt;

namespace TransformerCourse.Analysis;

/// <summary>
/// Lesson 18's accounting of the KV cache: its size in bytes, and the multiply–adds of generating with and without it.
/// Multiply–adds count the matrix products only (projections, attention scores and weighted sums, the feed-forward
/// layers and the output head); LayerNorm, softmax, biases and embedding lookups are left out.
/// </summary>
public static class KvCacheCost
{
    /// <summary>
    /// Bytes of the keys and values a decoder keeps: 2 (K and V) · layers · kvHeads · headWidth · tokens · batch ·
    /// bytesPerElement.
    /// </summary>
    public static long Bytes(int layers, int kvHeads, int headWidth, long tokens, int bytesPerElement, int batch = 1)
    {
        RebuiltRoutines.Enter("KvCacheCost.Bytes");
        Guard.Positive(layers, nameof(layers));
        Guard.Positive(kvHeads, nameof(kvHeads));
        Guard.Positive(headWidth, nameof(headWidth));
        Guard.Positive(bytesPerElement, nameof(bytesPerElement));
        Guard.Positive(batch, nameof(batch));
        if (tokens < 0) throw new ArgumentException($"tokens must be non-negative but is {tokens}.", nameof(tokens));
        return 2L * layers * kvHeads * headWidth * tokens * batch * bytesPerElement;
    }

    /// <summary>Multiply–adds of one forward pass that computes <paramref name="newPositions"/> positions after
    /// <paramref name="past"/> cached ones (position p attends to p + 1 keys, as causal attention needs).</summary>
    public static double ForwardMultiplyAdds(GptConfig config, int kvHeads, long past, long newPositions)
    {
        Validate(config, kvHeads);
        if (past < 0) throw new ArgumentException($"past must be non-negative but is {past}.", nameof(past));
        if (newPositions < 0) throw new ArgumentException($"newPositions must be non-negative but is {newPositions}.", nameof(newPositions));
        double c = config.Width, d = config.HeadWidth, n = newPositions;
        // Per layer and position: q and o projections 2C², k and v projections 2·C·kvHeads·d, feed-forward 8C².
        double perPosition = config.Layers * (10 * c * c + 2 * c * kvHeads * d) + config.VocabSize * c;
        // Scores and weighted sums: 2·C per visible key; position p sees p + 1 keys.
        double keysSeen = n * past + n * (n + 1) / 2;
        return n * perPosition + config.Layers * 2 * c * keysSeen;
    }

    /// <summary>
    /// Multiply–adds of generating <paramref name="count"/> tokens after a <paramref name="prompt"/>-token prompt, the
    /// way <see cref="Generation.TextSampler.Generate"/> does it (the whole sequence stays within the context): without
    /// the cache, step i runs all prompt + i positions; with it, the prompt runs once and each later step one position.
    /// </summary>
    public static double GenerationMultiplyAdds(GptConfig config, int kvHeads, int prompt, int count, bool cached)
    {
        CheckGeneration(config, prompt, count);
        double total = 0;
        for (int i = 0; i < count; i++)
            total += cached && i > 0 ? ForwardMultiplyAdds(config, kvHeads, prompt + i - 1, 1) : ForwardMultiplyAdds(config, kvHeads, 0, prompt + i);
        return total;
    }

    /// <summary>Positions run through the model while generating (what <see cref="GptModel.PositionsComputed"/> counts).</summary>
    public static long GenerationPositions(int prompt, int count, bool cached)
    {
        if (prompt <= 0) throw new ArgumentException($"prompt must be positive but is {prompt}.", nameof(prompt));
        if (count < 0) throw new ArgumentException($"count must be non-negative but is {count}.", nameof(count));
        if (count == 0) return 0;
        return cached ? prompt + count - 1 : (long)count * prompt + (long)count * (count - 1) / 2;
    }

    static void CheckGeneration(GptConfig config, int prompt, int count)
    {
        if (prompt <= 0) throw new ArgumentException($"prompt must be positive but is {prompt}.", nameof(prompt));
        if (count < 0) throw new ArgumentException($"count must be non-negative but is {count}.", nameof(count));
        if (prompt + count - 1 > config.ContextLength)
            throw new ArgumentException($"prompt ({prompt}) + count ({count}) − 1 positions exceed the context length {config.ContextLength}; past it the window slides and the cache is rebuilt.", nameof(count));
    }

    static void Validate(GptConfig config, int kvHeads)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validated();
        if (kvHeads <= 0 || config.Heads % kvHeads != 0)
            throw new ArgumentException($"kvHeads ({kvHeads}) must be a positive divisor of config.Heads ({config.Heads}).", nameof(kvHeads));
    }
}
