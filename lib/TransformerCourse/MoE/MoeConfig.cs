namespace TransformerCourse.MoE;

/// <summary>How a mixture-of-experts feed-forward layer routes.</summary>
/// <param name="Experts">Number of experts N, each a copy of the dense model's feed-forward network (width → 4·width → width).</param>
/// <param name="TopK">Experts per token: 1 (Switch) or 2 (GShard).</param>
/// <param name="CapacityFactor">Each expert takes at most ⌈factor · tokens · k / N⌉ tokens per batch; null means no limit
/// (nothing is ever dropped).</param>
/// <param name="OutputScale">Multiplies the layer's output (1 = the standard layer). A control for experiments: with k = 1 the gate
/// is a router probability near 1/N early on, so an output scale of N undoes that shrinking.</param>
public sealed record MoeConfig(int Experts, int TopK = 1, double? CapacityFactor = 1.25, double OutputScale = 1.0)
{
    /// <summary>Throws ArgumentException naming the field when the configuration cannot be built.</summary>
    public MoeConfig Validated()
    {
        if (Experts < 1) throw new ArgumentException($"MoeConfig.Experts must be positive but is {Experts}.", nameof(Experts));
        if (TopK < 1 || TopK > Experts)
            throw new ArgumentException($"MoeConfig.TopK must be between 1 and Experts ({Experts}) but is {TopK}.", nameof(TopK));
        if (CapacityFactor is { } f && (!(f > 0) || double.IsInfinity(f)))
            throw new ArgumentException($"MoeConfig.CapacityFactor must be positive (or null for no limit) but is {f}.", nameof(CapacityFactor));
        if (!(OutputScale > 0) || double.IsInfinity(OutputScale))
            throw new ArgumentException($"MoeConfig.OutputScale must be a positive number but is {OutputScale}.", nameof(OutputScale));
        return this;
    }
}

/// <summary>What one MoE layer did with one batch (plain numbers, for plots and tables).</summary>
/// <param name="FirstChoiceShare">fᵢ: share of tokens whose first choice is expert i (sums to 1).</param>
/// <param name="MeanProbability">Pᵢ: router probability of expert i, averaged over the tokens.</param>
/// <param name="DroppedShare">Share of (token, choice) assignments over capacity, dropped.</param>
/// <param name="BalanceLoss">N · Σ fᵢ Pᵢ for this batch.</param>
/// <param name="MeanFirstGate">The gate of each token's first-choice expert (the factor its output is multiplied by), averaged over
/// the tokens; NaN where it was not recorded.</param>
public sealed record RoutingStats(double[] FirstChoiceShare, double[] MeanProbability, double DroppedShare, double BalanceLoss,
    double MeanFirstGate = double.NaN);
