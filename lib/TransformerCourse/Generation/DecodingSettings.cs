using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Generation;

/// <summary>
/// One decoding setting: the strategies of <see cref="Decoding"/> applied in the order Hugging Face's
/// <c>generate</c> applies them: repetition penalty on the logits, then temperature, then top-k, then top-p on what
/// is left, then renormalise. Temperature 0 is greedy (after the penalty).
/// </summary>
/// <param name="Temperature">τ ≥ 0; 0 means greedy.</param>
/// <param name="TopK">Keep the k most likely tokens (ties at the boundary kept); null keeps all.</param>
/// <param name="TopP">Keep the nucleus of mass p (the crossing token included); null keeps all.</param>
/// <param name="RepetitionPenalty">θ for tokens already in the history (1 = none).</param>
public sealed record DecodingSettings(double Temperature = 1.0, int? TopK = null, double? TopP = null, double RepetitionPenalty = 1.0)
{
    public static DecodingSettings Greedy { get; } = new(Temperature: 0);

    public DecodingSettings Validated()
    {
        Decoding.CheckTemperature(Temperature);
        if (TopK is <= 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, $"TopK must be at least 1 (or null) but is {TopK}.");
        if (TopP is double p) Decoding.CheckP(p);
        if (!(RepetitionPenalty > 0) || double.IsInfinity(RepetitionPenalty))
            throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), RepetitionPenalty, $"RepetitionPenalty must be positive and finite but is {RepetitionPenalty}.");
        return this;
    }

    /// <summary>A short label such as "τ 0.8, top-p 0.9" or "greedy".</summary>
    public string Label
    {
        get
        {
            var parts = new List<string> { Temperature == 0 ? "greedy" : $"τ {Temperature:0.##}" };
            if (TopK is int k) parts.Add($"top-k {k}");
            if (TopP is double p) parts.Add($"top-p {p:0.##}");
            if (RepetitionPenalty != 1) parts.Add($"penalty {RepetitionPenalty:0.##}");
            return string.Join(", ", parts);
        }
    }

    public override string ToString() => Label;

    /// <summary>The distribution this setting samples from, for (B, V) logits and one history per row (or (V) and one history).</summary>
    public Tensor Distribution(Tensor logits, IReadOnlyList<long[]>? histories = null)
    {
        Validated();
        using var scope = NewDisposeScope();
        bool single = logits.dim() == 1;
        var z = (single ? logits.unsqueeze(0) : logits).detach().to_type(ScalarType.Float64);
        Guard.RankExactly(z, 2, nameof(logits), "batch, vocabulary");
        if (RepetitionPenalty != 1)
        {
            if (histories is null) throw new ArgumentException("a repetition penalty needs the histories of the rows.", nameof(histories));
            z = Decoding.RepetitionPenalty(z, histories, RepetitionPenalty);
        }
        Tensor q;
        if (Temperature == 0) q = Decoding.GreedyCore(z);
        else
        {
            z = z / Temperature;
            if (TopK is int k) z = Decoding.TopKLogits(z, k);
            q = z.softmax(-1);
            if (TopP is double p) q = Decoding.TopPCore(q, p);
        }
        return (single ? q.squeeze(0) : q).to_type(logits.dtype).MoveToOuterDisposeScope();
    }
}
