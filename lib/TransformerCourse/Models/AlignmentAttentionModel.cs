using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Models;

/// <summary>
/// The smallest model that has to learn an alignment: each output position owns a learned query, the
/// source tokens (plus their positions) are the keys and values, and one scaled dot-product attention
/// picks what to copy. Logits: (batch, targetLength, vocab).
/// </summary>
public sealed class AlignmentAttentionModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokens, positions, outputSlots;
    private readonly Linear toQuery, toKey, toValue, toLogits;

    public AlignmentAttentionModel(int vocabSize, int sourceLength, int targetLength, int width) : base(nameof(AlignmentAttentionModel))
    {
        Guard.Positive(width, nameof(width));
        tokens = nn.Embedding(vocabSize, width);
        positions = nn.Embedding(sourceLength, width);
        outputSlots = nn.Embedding(targetLength, width);
        toQuery = nn.Linear(width, width);
        toKey = nn.Linear(width, width);
        toValue = nn.Linear(width, width);
        toLogits = nn.Linear(width, vocabSize);
        (SourceLength, TargetLength) = (sourceLength, targetLength);
        RegisterComponents();
    }

    public int SourceLength { get; }
    public int TargetLength { get; }

    public override Tensor forward(Tensor source)
    {
        using var result = ForwardWithWeights(source);
        return result.Output.alias();
    }

    /// <summary>Logits and the attention weights (batch, targetLength, sourceLength).</summary>
    public AttentionResult ForwardWithWeights(Tensor source)
    {
        Guard.RankExactly(source, 2, nameof(source), "batch, sourceLength");
        if (source.shape[1] != SourceLength)
            throw new ArgumentException($"source has length {source.shape[1]} but the model was built for {SourceLength}.", nameof(source));
        using var scope = NewDisposeScope();
        var device = source.device;
        var memory = tokens.forward(source) + positions.forward(arange(SourceLength, device: device));
        var slots = outputSlots.forward(arange(TargetLength, device: device)).unsqueeze(0).expand(source.shape[0], -1, -1);
        var attended = ScaledDotProductAttention.Compute(toQuery.forward(slots), toKey.forward(memory), toValue.forward(memory));
        var logits = toLogits.forward(attended.Output);
        return new AttentionResult(logits.MoveToOuterDisposeScope(), attended.Weights.MoveToOuterDisposeScope());
    }
}
