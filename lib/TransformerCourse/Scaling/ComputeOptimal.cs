using TransformerCourse.Analysis;
using TransformerCourse.Exercises;
using TransformerCourse.Gpt;

namespace TransformerCourse.Scaling;

/// <summary>
/// Compute-optimal allocation. Training a model of N parameters on D tokens costs C ≈ 6·N·D FLOPs (2 per parameter per
/// token forward, 4 backward; Kaplan et al., 2020). Hoffmann et al. (2022) found that for a fixed C the loss is lowest when
/// N and D grow together, at about 20 tokens per parameter (Chinchilla: 70B parameters, 1.4T tokens).
/// </summary>
public static class ComputeOptimal
{
    /// <summary>Hoffmann et al. (2022): about 20 training tokens per parameter at the compute-optimal point.</summary>
    public const double ChinchillaTokensPerParameter = 20;

    /// <summary>C ≈ 6·N·D.</summary>
    public static double TrainingFlops(double parameters, double tokens)
    {
        Guard.Positive(parameters, nameof(parameters));
        Guard.Positive(tokens, nameof(tokens));
        return 6 * parameters * tokens;
    }

    /// <summary>The N and D with C = 6·N·D and D = r·N: N = √(C / 6r), D = r·N.</summary>
    public static (double Parameters, double Tokens) Allocate(double flops, double tokensPerParameter = ChinchillaTokensPerParameter)
    {
        RebuiltRoutines.Enter("ComputeOptimal.Allocate");
        Guard.Positive(flops, nameof(flops));
        Guard.Positive(tokensPerParameter, nameof(tokensPerParameter));
        double n = Math.Sqrt(flops / (6 * tokensPerParameter));
        return (n, tokensPerParameter * n);
    }

    /// <summary>
    /// The N that minimises a fitted <see cref="JointScalingLaw"/> at a fixed compute C (D = C / 6N):
    /// N* = G·(C/6)^(β/(α+β)) with G = (αA / βB)^(1/(α+β)) (Hoffmann et al., 2022, eq. 4), and D* = C / 6N*.
    /// </summary>
    public static (double Parameters, double Tokens) Allocate(JointScalingLaw law, double flops)
    {
        Guard.Positive(flops, nameof(flops));
        double s = law.Alpha + law.Beta;
        double g = Math.Pow(law.Alpha * law.A / (law.Beta * law.B), 1 / s);
        double n = g * Math.Pow(flops / 6, law.Beta / s);
        return (n, flops / (6 * n));
    }

    /// <summary>Percentile interval of the law's optimal N at <paramref name="flops"/> over the fit's bootstrap refits.</summary>
    public static (double Low, double High) AllocateInterval(JointScalingLawFit fit, double flops, double level = 0.95) =>
        SaturatingPowerLawFit.Interval(fit.Bootstrap.Select(b => Allocate(b, flops).Parameters), level);

    /// <summary>Tokens a recipe trains on: steps × batch × context.</summary>
    public static double Tokens(TrainingRecipe recipe) => (double)recipe.Steps * recipe.BatchSize * recipe.ContextLength;

    /// <summary>Non-embedding parameters of a recipe's model (Kaplan's N): its blocks and final LayerNorm.</summary>
    public static long NonEmbeddingParameters(TrainingRecipe recipe) => ModelSizes.NonEmbeddingParameters(recipe.Layers, recipe.Width);
}
