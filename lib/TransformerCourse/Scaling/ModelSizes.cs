using TransformerCourse.Exercises;
using TransformerCourse.Gpt;

namespace TransformerCourse.Scaling;

/// <summary>
/// The shape of a published GPT, as far as its parameter count is concerned: vocabulary, context, depth, width,
/// heads, whether the output layer is tied to the token embedding, and whether a LayerNorm follows the last block.
/// <paramref name="QuotedParameters"/> is the size the model is usually quoted at, with <paramref name="Source"/>.
/// </summary>
public sealed record PublishedGpt(string Name, int VocabSize, int ContextLength, int Layers, int Width, int Heads,
    bool TiedHead, bool FinalNorm, double QuotedParameters, string Source)
{
    /// <summary>This shape as a <see cref="GptConfig"/> at another width (the head count becomes
    /// <paramref name="heads"/>; the parameter count does not depend on it).</summary>
    public GptConfig ConfigAtWidth(int width, int heads = 4) =>
        new GptConfig(VocabSize, ContextLength, Layers, heads, width, TiedHead: TiedHead).Validated();
}

/// <summary>
/// Closed-form parameter counts of GPT-style decoders (GPT-1, GPT-2, GPT-3 and the course's <see cref="GptModel"/>):
/// token and position tables, L blocks of 12d² + 13d (Q/K/V and output projections with biases, a 4d MLP with
/// biases, two LayerNorms), an optional final LayerNorm and an optional untied V × d output matrix.
/// </summary>
public static class ModelSizes
{
    /// <summary>GPT-1 (Radford et al., 2018): 12 layers, d = 768, 12 heads, a 40,478-token BPE vocabulary and 512
    /// learned positions; post-LayerNorm blocks, so no LayerNorm after the last block; output tied to the embedding.
    /// The GPT-2 paper (Table 2) quotes its size as 117M.</summary>
    public static PublishedGpt Gpt1 { get; } = new("GPT-1", 40_478, 512, 12, 768, 12, TiedHead: true, FinalNorm: false, 117e6,
        "Radford et al. (2018); 117M as in Radford et al. (2019), Table 2");

    /// <summary>GPT-2 (Radford et al., 2019): vocabulary 50,257, context 1,024, tied head, pre-LN with a final LayerNorm.
    /// The quoted sizes are the corrected ones of OpenAI's gpt-2 repository (the paper's Table 2 says 117M, 345M, 762M, 1542M).</summary>
    public static PublishedGpt Gpt2Small { get; } = new("GPT-2 small", 50_257, 1024, 12, 768, 12, true, true, 124e6, "Radford et al. (2019); 124M");
    public static PublishedGpt Gpt2Medium { get; } = new("GPT-2 medium", 50_257, 1024, 24, 1024, 16, true, true, 355e6, "Radford et al. (2019); 355M");
    public static PublishedGpt Gpt2Large { get; } = new("GPT-2 large", 50_257, 1024, 36, 1280, 20, true, true, 774e6, "Radford et al. (2019); 774M");
    public static PublishedGpt Gpt2XL { get; } = new("GPT-2 XL", 50_257, 1024, 48, 1600, 25, true, true, 1558e6, "Radford et al. (2019); 1558M");

    /// <summary>GPT-3 175B (Brown et al., 2020, Table 2.1): 96 layers, d = 12,288, 96 heads, context 2,048, GPT-2's
    /// vocabulary. Its alternating dense and locally banded sparse attention changes which keys a query sees, not the weights.</summary>
    public static PublishedGpt Gpt3 { get; } = new("GPT-3 175B", 50_257, 2048, 96, 12_288, 96, true, true, 175.0e9, "Brown et al. (2020), Table 2.1: 175.0B");

    public static IReadOnlyList<PublishedGpt> Published { get; } = [Gpt1, Gpt2Small, Gpt2Medium, Gpt2Large, Gpt2XL, Gpt3];

    /// <summary>One block: QKV (3d² + 3d), output projection (d² + d), MLP (4d² + 4d and 4d² + d), two LayerNorms (4d) = 12d² + 13d.</summary>
    public static long BlockParameters(long width)
    {
        RebuiltRoutines.Enter("ModelSizes.BlockParameters");
        if (width <= 0) throw new ArgumentException($"width must be positive but is {width}.", nameof(width));
        return 12 * width * width + 13 * width;
    }

    /// <summary>Token table V·d plus position table T·d.</summary>
    public static long EmbeddingParameters(long vocabSize, long contextLength, long width)
    {
        RebuiltRoutines.Enter("ModelSizes.EmbeddingParameters");
        return vocabSize * width + contextLength * width;
    }

    /// <summary>Everything but the embedding tables and the output matrix: L blocks and the final LayerNorm, if any
    /// (Kaplan et al., 2020, count N this way).</summary>
    public static long NonEmbeddingParameters(long layers, long width, bool finalNorm = true)
    {
        RebuiltRoutines.Enter("ModelSizes.NonEmbeddingParameters");
        return layers * BlockParameters(width) + (finalNorm ? 2 * width : 0);
    }

    /// <summary>The exact total: embeddings + blocks + final LayerNorm + (untied only) the V × d output matrix.</summary>
    public static long Total(long vocabSize, long contextLength, long layers, long width, bool tiedHead = true, bool finalNorm = true)
    {
        RebuiltRoutines.Enter("ModelSizes.Total");
        foreach (var (value, name) in new[] { (vocabSize, nameof(vocabSize)), (contextLength, nameof(contextLength)), (layers, nameof(layers)), (width, nameof(width)) })
            if (value <= 0) throw new ArgumentException($"{name} must be positive but is {value}.", name);
        return EmbeddingParameters(vocabSize, contextLength, width) + NonEmbeddingParameters(layers, width, finalNorm)
            + (tiedHead ? 0 : vocabSize * width);
    }

    public static long Total(GptConfig c) => Total(c.VocabSize, c.ContextLength, c.Layers, c.Width, c.TiedHead);

    public static long Total(PublishedGpt m) => Total(m.VocabSize, m.ContextLength, m.Layers, m.Width, m.TiedHead, m.FinalNorm);

    public static long NonEmbeddingParameters(PublishedGpt m) => NonEmbeddingParameters(m.Layers, m.Width, m.FinalNorm);

    /// <summary>The rule of thumb N ≈ 12·L·d²: the matrices inside the blocks only.</summary>
    public static long TwelveLdSquared(long layers, long width) => 12 * layers * width * width;

    /// <summary>
    /// The parameter count of a <see cref="GptModel"/> built with this shape at <paramref name="width"/>, counted tensor by
    /// tensor. For a shape without a final LayerNorm (GPT-1), that LayerNorm's tensors are left out of the count.
    /// </summary>
    public static long BuiltCount(PublishedGpt shape, int width, int heads = 4)
    {
        using var model = new GptModel(shape.ConfigAtWidth(width, heads));
        return model.named_parameters().Where(p => shape.FinalNorm || !p.name.StartsWith("finalNorm", StringComparison.Ordinal))
            .Sum(p => p.parameter.NumberOfElements);
    }
}
