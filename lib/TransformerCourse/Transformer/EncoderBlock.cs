using TransformerCourse.Exercises;
using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>
/// One encoder layer: multi-head self-attention, then the position-wise feed-forward network, each inside a
/// <see cref="ResidualConnection"/> (Post-LN as in the paper, or Pre-LN). forward(x (B, L, d), mask) → (B, L, d);
/// mask is boolean, true = may attend, broadcastable to (B, L, L) — usually the source padding mask (B, 1, L).
/// Parameters: (4d² + 4d) + FFN + 2·(2d).
/// </summary>
public sealed class EncoderBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly MultiHeadAttention self_attn;
    private readonly PositionwiseFeedForward feed_forward;
    private readonly ResidualConnection attn_residual, ffn_residual;

    public EncoderBlock(int width, int heads, int feedForwardWidth, double dropout = 0.0,
        NormPlacement norm = NormPlacement.Post, FeedForwardKind feedForward = FeedForwardKind.Relu) : base(nameof(EncoderBlock))
    {
        RebuiltRoutines.Enter("EncoderBlock.new");
        self_attn = new MultiHeadAttention(width, heads);
        feed_forward = new PositionwiseFeedForward(width, feedForwardWidth, feedForward, dropout);
        attn_residual = new ResidualConnection(width, norm, dropout);
        ffn_residual = new ResidualConnection(width, norm, dropout);
        RegisterComponents();
    }

    public EncoderBlock(TransformerConfig config)
        : this(config.Width, config.Heads, config.FeedForwardWidth, config.Dropout, config.Norm, config.FeedForward) { }

    public MultiHeadAttention SelfAttention => self_attn;

    /// <summary>Closed-form parameter count of one encoder layer.</summary>
    public static long ParameterCount(TransformerConfig c)
    {
        RebuiltRoutines.Enter("EncoderBlock.ParameterCount");
        return MultiHeadAttention.ParameterCount(c.Width)
            + PositionwiseFeedForward.ParameterCount(c.FeedForward, c.Width, c.FeedForwardWidth)
            + 2 * ResidualConnection.ParameterCount(c.Width, c.Norm);
    }

    public override Tensor forward(Tensor x, Tensor? mask = null)
    {
        var (output, weights) = ForwardWithAttention(x, mask);
        weights.Dispose();
        return output;
    }

    /// <summary>Like forward, and also returns the self-attention weights (B, H, L, L).</summary>
    public (Tensor Output, Tensor SelfAttention) ForwardWithAttention(Tensor x, Tensor? mask = null)
    {
        using var scope = NewDisposeScope();
        Tensor? weights = null;
        x = attn_residual.forward(x, h =>
        {
            var r = self_attn.forward(h, h, h, mask);
            weights = r.Weights;
            return r.Output;
        });
        x = ffn_residual.forward(x, feed_forward.forward);
        return (x.MoveToOuterDisposeScope(), weights!.MoveToOuterDisposeScope());
    }
}
