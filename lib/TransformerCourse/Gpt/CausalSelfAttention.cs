using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>
/// Multi-head self-attention where each position sees only itself and the past. Keys and values of
/// earlier calls can be kept in a <see cref="LayerKvCache"/> so generation computes each token once.
/// </summary>
public sealed class CausalSelfAttention : nn.Module<Tensor, LayerKvCache?, Tensor>
{
    private readonly Linear qkv, proj;
    private readonly Dropout residualDropout;
    private readonly int heads, width;
    private readonly double dropout;

    public CausalSelfAttention(GptConfig config) : base(nameof(CausalSelfAttention))
    {
        Exercises.RebuiltRoutines.Enter("new CausalSelfAttention(...)");
        (heads, width, dropout) = (config.Heads, config.Width, config.Dropout);
        qkv = nn.Linear(width, 3 * width);
        proj = nn.Linear(width, width);
        residualDropout = nn.Dropout(dropout);
        UseFused = config.UseFusedAttention;
        RegisterComponents();
    }

    /// <summary>Fast path (TorchSharp's fused kernel) or the course's from-scratch attention.</summary>
    public bool UseFused { get; set; }

    /// <summary>The output projection, whose initial scale depends on depth (see Gpt).</summary>
    internal Linear OutputProjection => proj;

    public override Tensor forward(Tensor x, LayerKvCache? cache)
    {
        using var scope = NewDisposeScope();
        var (b, t) = (x.shape[0], x.shape[1]);
        // (B, T, 3C) → three (B, H, T, C/H) tensors.
        var parts = qkv.forward(x).view(b, t, 3, heads, width / heads).permute(2, 0, 3, 1, 4);
        Tensor q = parts[0], k = parts[1], v = parts[2];
        long past = 0;
        if (cache is not null)
        {
            past = cache.Length;
            (k, v) = cache.Append(k, v);
        }
        // New queries sit at positions past..past+t−1; each may see keys up to its own position.
        Tensor? mask = null;
        bool causal = false;
        if (t > 1)
        {
            if (past == 0) causal = true;
            else mask = ChunkMask(t, past, x.device);
        }
        Tensor y;
        if (UseFused)
        {
            y = nn.functional.scaled_dot_product_attention(q, k, v, mask, training ? dropout : 0.0, causal);
        }
        else
        {
            mask ??= causal ? Masks.Causal(t, x.device) : null;
            y = AttendFromScratch(q, k, v, mask, training ? dropout : 0.0);
        }
        y = y.transpose(1, 2).contiguous().view(b, t, width);
        return residualDropout.forward(proj.forward(y)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The from-scratch path: softmax(q kᵀ/√d + mask) v, with dropout applied to the attention WEIGHTS (as the
    /// fused kernel and nanoGPT do), so a dropped weight removes one key's contribution to one query.
    /// </summary>
    public static Tensor AttendFromScratch(Tensor q, Tensor k, Tensor v, Tensor? mask, double dropout)
    {
        if (dropout is < 0 or >= 1) throw new ArgumentException($"dropout must be in [0, 1) but is {dropout}.", nameof(dropout));
        using var result = ScaledDotProductAttention.Compute(q, k, v, mask);
        return dropout == 0 ? result.Output.alias() : nn.functional.dropout(result.Weights, dropout, training: true).matmul(v);
    }

    /// <summary>
    /// The mask for <paramref name="newPositions"/> queries that follow <paramref name="past"/> cached positions:
    /// (new, past + new), true where query i (at position past + i) may see key j, that is j ≤ past + i.
    /// </summary>
    public static Tensor ChunkMask(long newPositions, long past, Device? device = null)
    {
        RebuiltRoutines.Enter("CausalSelfAttention.ChunkMask");
        if (newPositions <= 0) throw new ArgumentException($"newPositions must be positive but is {newPositions}.", nameof(newPositions));
        if (past < 0) throw new ArgumentException($"past must be non-negative but is {past}.", nameof(past));
        return ones(newPositions, past + newPositions, dtype: ScalarType.Bool, device: device).tril(past);
    }
}
