using TransformerCourse.Gpt;

namespace TransformerCourse.Training;

/// <summary>
/// Training FLOPs of a GPT step: 6 per parameter per token (forward 2, backward 4; Kaplan et al. 2020, Table 1)
/// plus the attention scores and weighted sums, 12 · layers · context · width per token (PaLM, Chowdhery et al.
/// 2022, appendix B).
/// </summary>
public static class FlopCounter
{
    public static double PerToken(GptConfig config, long nonEmbeddingParameters) =>
        6.0 * nonEmbeddingParameters + 12.0 * config.Layers * config.ContextLength * config.Width;

    public static double PerStep(GptConfig config, long nonEmbeddingParameters, int batchSize) =>
        PerToken(config, nonEmbeddingParameters) * batchSize * config.ContextLength;

    /// <summary>
    /// A whole recipe: <c>Steps</c> training steps plus its evaluations (every <c>EvalInterval</c> steps, both splits,
    /// <c>EvalBatches</c> forward passes each), a forward pass counted as a third of a training step.
    /// </summary>
    public static (double Training, double Evaluation) PerRun(TrainingRecipe recipe, GptConfig config, long nonEmbeddingParameters)
    {
        double step = PerStep(config, nonEmbeddingParameters, recipe.BatchSize);
        int evaluations = recipe.EvalInterval > 0 ? recipe.Steps / recipe.EvalInterval + (recipe.Steps % recipe.EvalInterval == 0 ? 0 : 1) : 1;
        return (step * recipe.Steps, evaluations * 2.0 * recipe.EvalBatches * step / 3);
    }
}
