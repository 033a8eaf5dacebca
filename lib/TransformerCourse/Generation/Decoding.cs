using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Generation;

/// <summary>
/// Decoding strategies as pure functions: each takes next-token logits, (V) or (B, V), and returns the
/// distribution it samples from (same shape, rows sum to 1), so the distributions can be inspected and plotted.
/// <see cref="Sample"/> then draws from any of them with an explicit, seeded <see cref="Generator"/>.
/// Work is done in float64 and the result has the dtype of the logits. The logits are never modified.
/// <para>Tie-breaking, chosen once for all of them:</para>
/// <list type="bullet">
/// <item><see cref="Greedy"/> puts all the mass on the <b>lowest id</b> among equal maxima (as argmax does).</item>
/// <item><see cref="TopK"/> keeps every token whose logit is at least the k-th largest, so tokens <b>tied at the
/// boundary are all kept</b> (possibly more than k), as Hugging Face's TopKLogitsWarper and
/// <see cref="TextSampler"/> do. k ≥ V keeps everything.</item>
/// <item><see cref="TopP"/> keeps the most likely tokens, in order, until their mass reaches p, <b>including the
/// token that crosses p</b>; tokens tied with the last kept one are kept too.</item>
/// </list>
/// </summary>
public static class Decoding
{
    /// <summary>All the mass on the most likely token (the lowest id among ties).</summary>
    public static Tensor Greedy(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var z = Prepare(logits, nameof(logits));
        return Finish(GreedyCore(z), logits);
    }

    /// <summary>softmax(z / τ). τ → 0 approaches greedy, and τ = 0 is greedy; τ = 1 is the model's own distribution.</summary>
    public static Tensor Temperature(Tensor logits, double temperature)
    {
        CheckTemperature(temperature);
        using var scope = NewDisposeScope();
        var z = Prepare(logits, nameof(logits));
        return Finish(temperature == 0 ? GreedyCore(z) : (z / temperature).softmax(-1), logits);
    }

    /// <summary>
    /// Top-k sampling (Fan et al., 2018): softmax(z / τ) over the k largest logits, zero elsewhere. Tokens tied
    /// with the k-th largest logit are all kept; k ≥ V keeps every token.
    /// </summary>
    public static Tensor TopK(Tensor logits, int k, double temperature = 1.0)
    {
        RebuiltRoutines.Enter("Decoding.TopK");
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be at least 1 but is {k} (logits has shape {Guard.Shape(logits)}).");
        CheckTemperature(temperature);
        using var scope = NewDisposeScope();
        var z = Prepare(logits, nameof(logits));
        if (temperature == 0) return Finish(GreedyCore(z), logits);
        return Finish(TopKLogits(z / temperature, k).softmax(-1), logits);
    }

    /// <summary>
    /// Nucleus (top-p) sampling (Holtzman et al., 2020): sort the tokens by probability under softmax(z / τ) and keep
    /// the shortest run from the top whose mass reaches <paramref name="p"/> — the token that crosses p is kept
    /// (a token is kept when the mass of the tokens before it is still below p). Tokens tied with the last kept one
    /// are kept too. The kept probabilities are renormalised to sum to 1. p = 1 keeps every token.
    /// </summary>
    public static Tensor TopP(Tensor logits, double p, double temperature = 1.0)
    {
        RebuiltRoutines.Enter("Decoding.TopP");
        CheckP(p);
        CheckTemperature(temperature);
        using var scope = NewDisposeScope();
        var z = Prepare(logits, nameof(logits));
        if (temperature == 0) return Finish(GreedyCore(z), logits);
        return Finish(TopPCore((z / temperature).softmax(-1), p), logits);
    }

    /// <summary>
    /// The repetition penalty of CTRL (Keskar et al., 2019) in the variant of Hugging Face's
    /// <c>RepetitionPenaltyLogitsProcessor</c>: every token that occurs in <paramref name="history"/> (once or many
    /// times: it is penalised once) has its logit divided by θ when positive and multiplied by θ when negative, so with
    /// θ &gt; 1 its logit always goes down. (CTRL itself divides every seen logit by θ whatever its sign, which makes a
    /// seen token with a negative logit more likely; the multiply for negative logits is Hugging Face's fix.) Returns new logits
    /// (apply a strategy above to get a distribution). θ = 1 changes nothing; θ &lt; 1 would favour repeats.
    /// </summary>
    /// <param name="logits">(V) next-token logits.</param>
    /// <param name="history">Token ids generated (or given) so far.</param>
    /// <param name="penalty">θ &gt; 0.</param>
    public static Tensor RepetitionPenalty(Tensor logits, IEnumerable<long> history, double penalty)
    {
        RebuiltRoutines.Enter("Decoding.RepetitionPenalty");
        Guard.RankExactly(logits, 1, nameof(logits), "vocabulary");
        return RepetitionPenalty(logits.unsqueeze(0), [history.ToArray()], penalty).squeeze(0);
    }

    /// <summary>The repetition penalty for a batch: (B, V) logits and one history per row.</summary>
    public static Tensor RepetitionPenalty(Tensor logits, IReadOnlyList<long[]> histories, double penalty)
    {
        RebuiltRoutines.Enter("Decoding.RepetitionPenalty");
        Guard.RankExactly(logits, 2, nameof(logits), "batch, vocabulary");
        if (!(penalty > 0) || double.IsInfinity(penalty))
            throw new ArgumentOutOfRangeException(nameof(penalty), penalty, $"penalty must be positive and finite but is {penalty} (1 means no penalty).");
        long b = logits.shape[0], v = logits.shape[1];
        if (histories.Count != b)
            throw new ArgumentException($"histories has {histories.Count} rows but logits has shape {Guard.Shape(logits)}.", nameof(histories));
        using var scope = NewDisposeScope();
        var seen = zeros(b, v, dtype: ScalarType.Bool);
        for (int r = 0; r < b; r++)
            foreach (var id in histories[r].Distinct())
            {
                if (id < 0 || id >= v) throw new ArgumentException($"history of row {r} holds token {id}, outside the vocabulary of {v}.", nameof(histories));
                seen[r, id] = true;
            }
        seen = seen.to(logits.device);
        var penalised = where(logits > 0, logits / penalty, logits * penalty);
        return where(seen, penalised, logits).MoveToOuterDisposeScope();
    }

    /// <summary>Draws one token per row of <paramref name="distribution"/> ((V) or (B, V)) with <paramref name="generator"/>.</summary>
    public static long[] Sample(Tensor distribution, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        Guard.Rank(distribution, 1, nameof(distribution), "vocabulary");
        if (distribution.dim() > 2)
            throw new ArgumentException($"distribution must be (V) or (B, V) but has shape {Guard.Shape(distribution)}.", nameof(distribution));
        using var scope = NewDisposeScope();
        var rows = distribution.dim() == 1 ? distribution.unsqueeze(0) : distribution;
        return rows.multinomial(1, false, generator).reshape(-1).cpu().data<long>().ToArray();
    }

    /// <summary>How many tokens keep a non-zero probability, per row (or the one count for (V)).</summary>
    public static long[] Kept(Tensor distribution)
    {
        using var scope = NewDisposeScope();
        var rows = distribution.dim() == 1 ? distribution.unsqueeze(0) : distribution;
        return (rows > 0).sum(dim: -1).cpu().data<long>().ToArray();
    }

    // ---- building blocks (float64, no checks) ----

    internal static Tensor GreedyCore(Tensor z)
    {
        long v = z.shape[^1];
        var isMax = z == z.max(-1, keepdim: true).values;
        // Among equal maxima the lowest id gets the largest weight v - id, so argmax picks it whatever the backend does.
        var first = (isMax.to(ScalarType.Float64) * arange(v, 0, -1, dtype: ScalarType.Float64, device: z.device)).argmax(-1, keepdim: true);
        return zeros_like(z).scatter(-1, first, ones(first.shape, dtype: z.dtype, device: z.device));
    }

    /// <summary>Logits with everything below the k-th largest set to −∞ (ties at the boundary kept).</summary>
    internal static Tensor TopKLogits(Tensor z, int k)
    {
        RebuiltRoutines.Enter("Decoding.TopK");
        if (k >= z.shape[^1]) return z.alias();
        var kth = z.topk(k, dim: -1).values[.., (k - 1)..k];
        return z.masked_fill(z < kth, double.NegativeInfinity);
    }

    /// <summary>Top-p on probabilities (rows sum to 1); returns renormalised probabilities.</summary>
    internal static Tensor TopPCore(Tensor probs, double p)
    {
        RebuiltRoutines.Enter("Decoding.TopP");   // also reached through DecodingSettings.Distribution
        if (p >= 1) return probs.alias();
        var sorted = probs.sort(-1, descending: true).Values;
        var before = sorted.cumsum(-1) - sorted;                       // mass of the tokens ranked above each one
        var keptCount = (before < p).sum(dim: -1, keepdim: true);      // ≥ 1: nothing comes before the top token
        var last = sorted.gather(-1, keptCount - 1);                   // the token that crosses p
        var kept = probs.masked_fill(probs < last, 0.0);
        return kept / kept.sum(-1, keepdim: true);
    }

    static Tensor Prepare(Tensor logits, string name)
    {
        ArgumentNullException.ThrowIfNull(logits, name);
        if (logits.dim() is not (1 or 2))
            throw new ArgumentException($"{name} must be (V) or (B, V) but has shape {Guard.Shape(logits)}.", name);
        if (logits.shape[^1] == 0) throw new ArgumentException($"{name} has shape {Guard.Shape(logits)}: there are no tokens.", name);
        var z = logits.detach().to_type(ScalarType.Float64);
        return z.dim() == 1 ? z.unsqueeze(0) : z;
    }

    static Tensor Finish(Tensor result, Tensor logits)
    {
        var shaped = logits.dim() == 1 ? result.squeeze(0) : result;
        return shaped.to_type(logits.dtype).MoveToOuterDisposeScope();
    }

    internal static void CheckTemperature(double temperature)
    {
        if (!(temperature >= 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"temperature must be 0 (greedy) or positive and finite but is {temperature}.");
    }

    internal static void CheckP(double p)
    {
        if (!(p > 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, $"p must be in (0, 1] but is {p}.");
    }
}
