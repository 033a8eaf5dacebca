using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Modern;

/// <summary>
/// A model's parameters grouped by the part they belong to, read from the parameter names of the course's decoders
/// (<c>GptModel</c>, <c>GqaGptModel</c>, <see cref="ModernGptModel"/>): token embedding, position embedding, attention,
/// feed-forward network, normalisation. Anything else is counted as "other".
/// </summary>
public static class ParameterBreakdown
{
    public static readonly IReadOnlyList<string> Parts = ["token embedding", "position embedding", "attention", "feed-forward", "normalisation", "other"];

    /// <summary>Parameters per part, in the order of <see cref="Parts"/>; the values add up to the model's total.</summary>
    public static long[] Of(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var counts = new long[Parts.Count];
        foreach (var (name, p) in model.named_parameters()) counts[Part(name)] += p.NumberOfElements;
        return counts;
    }

    static int Part(string name)
    {
        if (name.StartsWith("tokenEmbedding.", StringComparison.Ordinal)) return 0;
        if (name.StartsWith("positionEmbedding.", StringComparison.Ordinal)) return 1;
        if (name.Contains(".attn.", StringComparison.Ordinal)) return 2;
        if (name.Contains(".mlp.", StringComparison.Ordinal) || name.Contains(".ffn.", StringComparison.Ordinal)) return 3;
        if (name.Contains("ln", StringComparison.Ordinal) || name.Contains("norm", StringComparison.OrdinalIgnoreCase)) return 4;
        return 5;
    }
}
