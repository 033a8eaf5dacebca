using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Models;

/// <summary>Where a <see cref="KeyValueMemoryModel"/> gets its query from.</summary>
public enum QuerySource
{
    /// <summary>A learned vector, the same for every input (as in <see cref="AlignmentAttentionModel"/>).</summary>
    LearnedSlot,
    /// <summary>The embedding of the question token, so the query changes with the input.</summary>
    Question,
}

/// <summary>
/// One attention read over a small dictionary, for <see cref="Data.KeyValueRetrievalTask"/> sources
/// k₁ v₁ … k_n v_n q: each stored pair is one memory slot, its key vector computed from kᵢ and its value
/// vector from vᵢ. The two variants differ only in the query: a learned vector that ignores the input, or one
/// computed from the question token q. Logits: (batch, 1, vocab); weights: (batch, 1, pairs).
/// </summary>
public sealed class KeyValueMemoryModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokens, slot;
    private readonly Linear toQuery, toKey, toValue, toLogits;

    public KeyValueMemoryModel(int vocabSize, int pairs, int width, QuerySource query) : base(nameof(KeyValueMemoryModel))
    {
        Guard.Positive(vocabSize, nameof(vocabSize));
        Guard.Positive(pairs, nameof(pairs));
        Guard.Positive(width, nameof(width));
        (Pairs, Query) = (pairs, query);
        tokens = nn.Embedding(vocabSize, width);
        slot = nn.Embedding(1, width);
        toQuery = nn.Linear(width, width);
        toKey = nn.Linear(width, width);
        toValue = nn.Linear(width, width);
        toLogits = nn.Linear(width, vocabSize);
        RegisterComponents();
    }

    public int Pairs { get; }
    public QuerySource Query { get; }

    public override Tensor forward(Tensor source)
    {
        using var result = ForwardWithWeights(source);
        return result.Output.alias();
    }

    /// <summary>Logits (batch, 1, vocab) and the attention weights over the stored pairs (batch, 1, pairs).</summary>
    public AttentionResult ForwardWithWeights(Tensor source)
    {
        Guard.RankExactly(source, 2, nameof(source), "batch, 2·pairs + 1");
        if (source.shape[1] != 2 * Pairs + 1)
            throw new ArgumentException($"source has length {source.shape[1]} but a dictionary of {Pairs} pairs plus a question has length {2 * Pairs + 1}.", nameof(source));
        using var scope = NewDisposeScope();
        var pairs = source.narrow(1, 0, 2 * Pairs).reshape(source.shape[0], Pairs, 2);
        var keys = toKey.forward(tokens.forward(pairs.select(2, 0)));
        var values = toValue.forward(tokens.forward(pairs.select(2, 1)));
        var asked = Query == QuerySource.Question
            ? tokens.forward(source.narrow(1, 2 * Pairs, 1))
            : slot.forward(zeros(1, dtype: ScalarType.Int64, device: source.device)).unsqueeze(0).expand(source.shape[0], 1, -1);
        var attended = ScaledDotProductAttention.Compute(toQuery.forward(asked), keys, values);
        var logits = toLogits.forward(attended.Output);
        return new AttentionResult(logits.MoveToOuterDisposeScope(), attended.Weights.MoveToOuterDisposeScope());
    }
}
