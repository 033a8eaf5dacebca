using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>BERT's masking rule (Devlin et al., 2019, §3.1): choose each maskable position with probability
/// <see cref="Probability"/>; of the chosen, <see cref="MaskShare"/> become [MASK], <see cref="RandomShare"/> a random
/// token and the rest stay as they are.</summary>
public sealed record MaskingRule(double Probability = 0.15, double MaskShare = 0.8, double RandomShare = 0.1)
{
    public static MaskingRule Bert { get; } = new();

    public MaskingRule Validated()
    {
        if (Probability is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(Probability), Probability, "Probability must be in (0, 1].");
        if (MaskShare < 0 || RandomShare < 0 || MaskShare + RandomShare > 1 + 1e-12)
            throw new ArgumentException($"MaskShare ({MaskShare}) and RandomShare ({RandomShare}) must be non-negative and sum to at most 1.", nameof(MaskShare));
        return this;
    }
}

/// <summary>A masked batch: what the model reads, what it must predict, and which positions were chosen.</summary>
/// <param name="Inputs">(B, L) ids after masking.</param>
/// <param name="Labels">(B, L): the original id at chosen positions, <see cref="MlmMasking.IgnoreIndex"/> elsewhere.</param>
/// <param name="Chosen">(B, L) bool: the positions the loss is computed on (15 %).</param>
public sealed record MaskedTokens(Tensor Inputs, Tensor Labels, Tensor Chosen);

/// <summary>
/// Masked-language-model corruption. <see cref="Apply"/> draws a fresh mask every call (dynamic masking, as RoBERTa
/// does; Liu et al., 2019); <see cref="ApplyStatic"/> gives each example the same mask every time it is seen
/// (BERT's preprocessing, the baseline RoBERTa compares against).
/// </summary>
public static class MlmMasking
{
    /// <summary>The label of a position the loss ignores (PyTorch's default ignore_index).</summary>
    public const long IgnoreIndex = -100;

    /// <summary>
    /// Masks <paramref name="ids"/> (B, L) where <paramref name="maskable"/> (B, L, bool) is true — never special tokens
    /// or padding. Random replacements are drawn uniformly from ids 0..<paramref name="randomVocabSize"/>−1 (the ordinary
    /// tokens; the special tokens sit after them).
    /// </summary>
    public static MaskedTokens Apply(Tensor ids, Tensor maskable, long maskId, long randomVocabSize, Generator? generator = null, MaskingRule? rule = null)
    {
        Exercises.RebuiltRoutines.Enter("MlmMasking.Apply");
        rule = (rule ?? MaskingRule.Bert).Validated();
        Guard.Rank(ids, 1, nameof(ids), "…, length");
        if (ids.dtype != ScalarType.Int64) throw new ArgumentException($"ids must be Int64 but is {ids.dtype}.", nameof(ids));
        if (!maskable.shape.SequenceEqual(ids.shape) || maskable.dtype != ScalarType.Bool)
            throw new ArgumentException($"maskable must be a boolean tensor shaped like ids {Guard.Shape(ids)} but is {maskable.dtype} {Guard.Shape(maskable)}.", nameof(maskable));
        Guard.Positive(randomVocabSize, nameof(randomVocabSize));
        using var scope = NewDisposeScope();
        var device = ids.device;
        // Draw on the CPU so a seeded CPU generator gives the same masks whatever the device.
        var chosen = rand(ids.shape, generator: generator).lt(rule.Probability).to(device).logical_and(maskable);
        var action = rand(ids.shape, generator: generator).to(device);
        var randomIds = randint(0, randomVocabSize, ids.shape, generator: generator, dtype: ScalarType.Int64).to(device);
        var toMask = chosen.logical_and(action.lt(rule.MaskShare));
        var toRandom = chosen.logical_and(action.ge(rule.MaskShare)).logical_and(action.lt(rule.MaskShare + rule.RandomShare));
        var inputs = where(toMask, full_like(ids, maskId), where(toRandom, randomIds, ids));
        var labels = where(chosen, ids, full_like(ids, IgnoreIndex));
        return new MaskedTokens(inputs.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), chosen.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Static masking: row r gets the mask drawn by a generator seeded with (<paramref name="seed"/>,
    /// <paramref name="exampleIds"/>[r]), so an example is masked the same way every time it appears in a batch.
    /// </summary>
    public static MaskedTokens ApplyStatic(Tensor ids, Tensor maskable, long[] exampleIds, long maskId, long randomVocabSize, long seed, MaskingRule? rule = null)
    {
        Guard.RankExactly(ids, 2, nameof(ids), "batch, length");
        if (exampleIds.Length != ids.shape[0])
            throw new ArgumentException($"exampleIds has {exampleIds.Length} entries but ids has {ids.shape[0]} rows (shape {Guard.Shape(ids)}).", nameof(exampleIds));
        using var scope = NewDisposeScope();
        var rows = new List<MaskedTokens>();
        for (int r = 0; r < exampleIds.Length; r++)
        {
            using var generator = new Generator(unchecked((ulong)(seed * 1_000_003 + exampleIds[r])));
            rows.Add(Apply(ids[r..(r + 1)], maskable[r..(r + 1)], maskId, randomVocabSize, generator, rule));
        }
        return new MaskedTokens(cat(rows.Select(m => m.Inputs).ToList(), 0).MoveToOuterDisposeScope(),
            cat(rows.Select(m => m.Labels).ToList(), 0).MoveToOuterDisposeScope(),
            cat(rows.Select(m => m.Chosen).ToList(), 0).MoveToOuterDisposeScope());
    }
}
