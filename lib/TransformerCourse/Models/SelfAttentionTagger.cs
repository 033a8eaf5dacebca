using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Attention;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Models;

/// <summary>How a <see cref="SelfAttentionTagger"/> tells positions apart.</summary>
public enum PositionKind
{
    /// <summary>No positional information: the attention layer sees a bag of tokens.</summary>
    None,
    /// <summary>The fixed sinusoidal table (<see cref="SinusoidalPositionalEncoding"/>) added to the token vectors; any length.</summary>
    Sinusoidal,
    /// <summary>One learned vector per position (<see cref="LearnedPositionalEmbedding"/>) up to <c>maxLength</c>.</summary>
    Learned,
}

/// <summary>
/// The smallest self-attention model for per-position lookups: token embedding, plus positions as
/// <see cref="PositionKind"/> says, one <see cref="MultiHeadAttention"/> whose queries, keys and values all come from
/// the input, and a linear readout that makes <c>slots</c> predictions per position (say "left neighbour" and
/// "right neighbour"). No residual connection and no feed-forward network: everything a position learns about the
/// others has to pass through the heads.
/// forward(tokens (B, L)) → logits (B, slots·L, V), slot-major (positions 0..L−1 of slot 0, then of slot 1, …), the
/// layout of <see cref="NeighboursAndMaxTask"/>'s targets, so <see cref="Training.SequenceTrainer"/> can train it.
/// </summary>
public sealed class SelfAttentionTagger : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly LearnedPositionalEmbedding? positions;
    private readonly MultiHeadAttention attention;
    private readonly Linear readout;

    /// <param name="vocabSize">V, the number of token ids.</param>
    /// <param name="width">d_model; must be even for sinusoidal positions and a multiple of <paramref name="heads"/>.</param>
    /// <param name="heads">H, the number of attention heads.</param>
    /// <param name="slots">Predictions per position.</param>
    /// <param name="positionKind">How positions are encoded.</param>
    /// <param name="maxLength">Longest sequence for learned positions (other kinds take any length).</param>
    public SelfAttentionTagger(int vocabSize, int width, int heads, int slots = 1, PositionKind positionKind = PositionKind.Learned,
        int maxLength = 64) : base(nameof(SelfAttentionTagger))
    {
        Guard.Positive(vocabSize, nameof(vocabSize));
        Guard.Positive(slots, nameof(slots));
        Guard.Positive(maxLength, nameof(maxLength));
        if (positionKind == PositionKind.Sinusoidal && width % 2 != 0)
            throw new ArgumentException($"width must be even for sinusoidal positions but is {width}.", nameof(width));
        (VocabSize, Width, Slots, Positions, MaxLength) = (vocabSize, width, slots, positionKind, maxLength);
        tokens = nn.Embedding(vocabSize, width);
        // std 1: the same scale as the N(0, 1) token vectors of nn.Embedding.
        if (positionKind == PositionKind.Learned) positions = new LearnedPositionalEmbedding(maxLength, width, std: 1.0);
        attention = new MultiHeadAttention(width, heads);
        readout = nn.Linear(width, slots * vocabSize);
        RegisterComponents();
    }

    public int VocabSize { get; }
    public int Width { get; }
    public int Slots { get; }
    public int MaxLength { get; }
    public PositionKind Positions { get; }

    /// <summary>The attention layer (for its weights, head ablation, parameter counts).</summary>
    public MultiHeadAttention Attention => attention;

    /// <summary>The learned position table, or null for the other kinds.</summary>
    public LearnedPositionalEmbedding? LearnedPositions => positions;

    public override Tensor forward(Tensor source)
    {
        using var result = ForwardWithWeights(source);
        return result.Output.alias();
    }

    /// <summary>Logits (B, slots·L, V) and the attention weights of every head (B, H, L, L).</summary>
    public AttentionResult ForwardWithWeights(Tensor source)
    {
        Guard.RankExactly(source, 2, nameof(source), "batch, length");
        long batch = source.shape[0], length = source.shape[1];
        if (Positions == PositionKind.Learned && length > MaxLength)
            throw new ArgumentException(
                $"source has shape {Guard.Shape(source)} but learned positions only go up to maxLength {MaxLength}.", nameof(source));
        using var scope = NewDisposeScope();
        var x = tokens.forward(source);
        x = Positions switch
        {
            PositionKind.Learned => positions!.forward(x),
            PositionKind.Sinusoidal => x + SinusoidalPositionalEncoding.Table(length, Width, source.device),
            _ => x,
        };
        var attended = attention.forward(x, x, x);
        var logits = readout.forward(attended.Output)
            .view(batch, length, Slots, VocabSize).transpose(1, 2).reshape(batch, Slots * length, VocabSize);
        return new AttentionResult(logits.MoveToOuterDisposeScope(), attended.Weights.MoveToOuterDisposeScope());
    }
}
