using TransformerCourse.Gpt;

namespace TransformerCourse.Training;

/// <summary>
/// Training FLOPs of a GPT step, as in Kaplan et al. (2020, Table 1) and PaLM's appendix B: 6 per
/// parameter per token (forward 2, backward 4) plus the attention scores and weighted sums,
/// 12 · layers · context · width per token.
/// </summary>
public static class FlopCounter
{
    public static double PerToken(GptConfig config, long nonEmbeddingParameters) =>
        6.0 * nonEmbeddingParameters + 12.0 * config.Layers * config.ContextLength * config.Width;

    public static double PerStep(GptConfig config, long nonEmbeddingParameters, int batchSize) =>
        PerToken(config, nonEmbeddingParameters) * batchSize * config.ContextLength;
}
