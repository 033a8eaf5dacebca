using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.Models;

/// <summary>
/// A recurrent baseline for the same tasks: one LSTM reads the source, then <c>targetLength</c> blank
/// slots, and predicts a target token at each slot. Everything it needs must pass through its fixed-size
/// state, which is the bottleneck attention removes. Logits: (batch, targetLength, vocab).
/// </summary>
public sealed class LstmBaseline : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly LSTM lstm;
    private readonly Linear toLogits;
    private readonly int vocabSize, targetLength;

    public LstmBaseline(int vocabSize, int targetLength, int width, int hidden) : base(nameof(LstmBaseline))
    {
        Guard.Positive(hidden, nameof(hidden));
        (this.vocabSize, this.targetLength) = (vocabSize, targetLength);
        embed = nn.Embedding(vocabSize + 1, width); // the extra id marks a blank output slot
        lstm = nn.LSTM(width, hidden, batchFirst: true);
        toLogits = nn.Linear(hidden, vocabSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor source)
    {
        Guard.RankExactly(source, 2, nameof(source), "batch, sourceLength");
        using var scope = NewDisposeScope();
        var blanks = full(source.shape[0], targetLength, vocabSize, dtype: ScalarType.Int64, device: source.device);
        var (states, _, _) = lstm.forward(embed.forward(cat([source, blanks], 1)));
        var atSlots = states.narrow(1, source.shape[1], targetLength);
        return toLogits.forward(atSlots).MoveToOuterDisposeScope();
    }
}
