using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>
/// One decoder layer: masked multi-head self-attention over the target, multi-head cross-attention whose queries
/// come from the target and keys/values from the encoder's output ("memory"), then the feed-forward network; each
/// inside a <see cref="ResidualConnection"/>.
/// forward(x (B, L_t, d), memory (B, L_s, d), sourceMask, targetMask) → (B, L_t, d).
/// targetMask broadcasts to (B, L_t, L_t) and must be causal (e.g. <see cref="Seq2SeqMasks.Target"/>);
/// sourceMask broadcasts to (B, L_t, L_s) (e.g. the padding mask (B, 1, L_s)). Both boolean, true = may attend.
/// Parameters: 2·(4d² + 4d) + FFN + 3·(2d).
/// </summary>
public sealed class DecoderBlock : nn.Module<Tensor, Tensor, Tensor?, Tensor?, Tensor>
{
    private readonly MultiHeadAttention self_attn, cross_attn;
    private readonly PositionwiseFeedForward feed_forward;
    private readonly ResidualConnection self_residual, cross_residual, ffn_residual;

    public DecoderBlock(int width, int heads, int feedForwardWidth, double dropout = 0.0,
        NormPlacement norm = NormPlacement.Post, FeedForwardKind feedForward = FeedForwardKind.Relu) : base(nameof(DecoderBlock))
    {
        RebuiltRoutines.Enter("DecoderBlock.new");
        self_attn = new MultiHeadAttention(width, heads);
        cross_attn = new MultiHeadAttention(width, heads);
        feed_forward = new PositionwiseFeedForward(width, feedForwardWidth, feedForward, dropout);
        self_residual = new ResidualConnection(width, norm, dropout);
        cross_residual = new ResidualConnection(width, norm, dropout);
        ffn_residual = new ResidualConnection(width, norm, dropout);
        RegisterComponents();
    }

    public DecoderBlock(TransformerConfig config)
        : this(config.Width, config.Heads, config.FeedForwardWidth, config.Dropout, config.Norm, config.FeedForward) { }

    public MultiHeadAttention SelfAttention => self_attn;
    public MultiHeadAttention CrossAttention => cross_attn;

    /// <summary>Closed-form parameter count of one decoder layer.</summary>
    public static long ParameterCount(TransformerConfig c)
    {
        RebuiltRoutines.Enter("DecoderBlock.ParameterCount");
        return 2 * MultiHeadAttention.ParameterCount(c.Width)
            + PositionwiseFeedForward.ParameterCount(c.FeedForward, c.Width, c.FeedForwardWidth)
            + 3 * ResidualConnection.ParameterCount(c.Width, c.Norm);
    }

    public override Tensor forward(Tensor x, Tensor memory, Tensor? sourceMask = null, Tensor? targetMask = null)
    {
        var (output, self, cross) = ForwardWithAttention(x, memory, sourceMask, targetMask);
        self.Dispose();
        cross.Dispose();
        return output;
    }

    /// <summary>Like forward, and also returns the self-attention (B, H, L_t, L_t) and cross-attention (B, H, L_t, L_s) weights.</summary>
    public (Tensor Output, Tensor SelfAttention, Tensor CrossAttention) ForwardWithAttention(
        Tensor x, Tensor memory, Tensor? sourceMask = null, Tensor? targetMask = null)
    {
        using var scope = NewDisposeScope();
        Tensor? selfWeights = null, crossWeights = null;
        x = self_residual.forward(x, h =>
        {
            var r = self_attn.forward(h, h, h, targetMask);
            selfWeights = r.Weights;
            return r.Output;
        });
        x = cross_residual.forward(x, h =>
        {
            var r = cross_attn.forward(h, memory, memory, sourceMask);
            crossWeights = r.Weights;
            return r.Output;
        });
        x = ffn_residual.forward(x, feed_forward.forward);
        return (x.MoveToOuterDisposeScope(), selfWeights!.MoveToOuterDisposeScope(), crossWeights!.MoveToOuterDisposeScope());
    }
}
