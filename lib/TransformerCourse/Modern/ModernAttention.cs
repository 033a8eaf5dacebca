using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Attention;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Modern;

/// <summary>
/// Causal self-attention with the modern options: grouped-query heads (as Lesson 18's <see cref="GroupedQueryAttention"/>,
/// with LLaMA's names q_proj, k_proj, v_proj, o_proj), RoPE on queries and keys or ALiBi biases on the scores, and an
/// optional sliding window. forward(x (B, T, C)) → (B, T, C). Uses the fused kernel; <see cref="Weights"/> recomputes the
/// weights from scratch for heatmaps.
/// </summary>
public sealed class ModernAttention : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // PyTorch/LLaMA parameter names
    private readonly Linear q_proj, k_proj, v_proj, o_proj;
#pragma warning restore IDE1006
    private readonly ModernGptConfig config;

    public ModernAttention(ModernGptConfig config) : base(nameof(ModernAttention))
    {
        this.config = config.Validated();
        int width = config.Width, kvWidth = config.KvHeads * config.HeadWidth;
        q_proj = nn.Linear(width, width, hasBias: config.Bias);
        k_proj = nn.Linear(width, kvWidth, hasBias: config.Bias);
        v_proj = nn.Linear(width, kvWidth, hasBias: config.Bias);
        o_proj = nn.Linear(width, width, hasBias: config.Bias);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        Validate(x);
        using var scope = NewDisposeScope();
        var (q, k, v) = Project(x);
        long t = x.shape[1];
        Tensor y = config.Positions == PositionScheme.Alibi || config.Window > 0
            ? nn.functional.scaled_dot_product_attention(q, k, v, Mask(t, x.device), 0.0, false)
            : nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, true);
        y = y.transpose(1, 2).contiguous().view(x.shape[0], t, config.Width);
        return o_proj.forward(y).MoveToOuterDisposeScope();
    }

    /// <summary>The attention weights (B, H, T, T) of a forward pass, computed step by step, for heatmaps.</summary>
    public Tensor Weights(Tensor x)
    {
        Validate(x);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (q, k, v) = Project(x);
        using var result = ScaledDotProductAttention.Compute(q, k, v, Mask(x.shape[1], x.device));
        return result.Weights.alias().MoveToOuterDisposeScope();
    }

    /// <summary>What the scores get: ALiBi's additive bias (H, T, T) with −∞ outside the window, or the boolean window mask (T, T).</summary>
    Tensor Mask(long t, Device device) => config.Positions == PositionScheme.Alibi
        ? Alibi.CausalBias(config.Heads, t, t, config.Window, device)
        : SlidingWindow.Mask(t, config.Window, device);

    (Tensor Q, Tensor K, Tensor V) Project(Tensor x)
    {
        var (b, t) = (x.shape[0], x.shape[1]);
        int h = config.Heads, kv = config.KvHeads, d = config.HeadWidth;
        var q = q_proj.forward(x).view(b, t, h, d).transpose(1, 2);
        var k = k_proj.forward(x).view(b, t, kv, d).transpose(1, 2);
        var v = v_proj.forward(x).view(b, t, kv, d).transpose(1, 2);
        if (config.Positions == PositionScheme.Rope)
        {
            q = RotaryEmbedding.Rotate(q, 0, config.RopeBase);
            k = RotaryEmbedding.Rotate(k, 0, config.RopeBase);
        }
        return (q, GroupedQueryAttention.RepeatKv(k, h), GroupedQueryAttention.RepeatKv(v, h));
    }

    void Validate(Tensor x)
    {
        Guard.RankExactly(x, 3, nameof(x), "batch, time, width");
        if (x.shape[2] != config.Width) throw new ArgumentException($"x has width {x.shape[2]} but the module was built for width {config.Width}.", nameof(x));
    }
}
