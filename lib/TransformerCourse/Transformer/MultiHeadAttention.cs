using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>
/// Multi-head attention from scratch (Vaswani et al., 2017, §3.2.2). Queries, keys and values each go through
/// their own d→d projection (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>); the width d is split into H heads of
/// d_k = d/H; every head runs <see cref="ScaledDotProductAttention"/> on its slice; the heads are concatenated
/// and mixed by <c>out_proj</c>.
/// forward(query (B, L_q, d), key (B, L_k, d), value (B, L_k, d), mask, keyPaddingMask) → output (B, L_q, d)
/// and the per-head weights (B, H, L_q, L_k). Parameters: 4·d² + 4·d.
/// </summary>
/// <remarks>
/// Masks are boolean with the course's convention, true = may attend (the opposite of PyTorch's
/// <c>nn.MultiheadAttention</c>, where true means "ignore"). <c>mask</c> broadcasts to (B, L_q, L_k) exactly as in
/// single-head attention (e.g. <see cref="Masks.Causal"/> or <see cref="Masks.Padding"/>) and is shared by every
/// head, or is 4-D (B or 1, H or 1, L_q, L_k) to differ per head. <c>keyPaddingMask</c> is (B, L_k): true marks a
/// real key. A query left with no key to attend to gets zero weights and output, not NaN.
/// </remarks>
public sealed class MultiHeadAttention : nn.Module<Tensor, Tensor, Tensor, Tensor?, Tensor?, AttentionResult>
{
    private readonly Linear q_proj, k_proj, v_proj, out_proj;
    private readonly double dropout;

    /// <param name="width">d_model, the width of the inputs and the output.</param>
    /// <param name="heads">H; must divide <paramref name="width"/>.</param>
    /// <param name="dropout">Dropout on the attention weights while training (PyTorch's <c>dropout</c>); 0 by default.
    /// The weights returned are those before dropout.</param>
    public MultiHeadAttention(int width, int heads, double dropout = 0.0) : base(nameof(MultiHeadAttention))
    {
        RebuiltRoutines.Enter("MultiHeadAttention.new");
        Guard.Positive(width, nameof(width));
        Guard.Positive(heads, nameof(heads));
        if (width % heads != 0)
            throw new ArgumentException($"width ({width}) must be a multiple of heads ({heads}).", nameof(heads));
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        (Width, Heads, this.dropout) = (width, heads, dropout);
        q_proj = nn.Linear(width, width);
        k_proj = nn.Linear(width, width);
        v_proj = nn.Linear(width, width);
        out_proj = nn.Linear(width, width);
        RegisterComponents();
    }

    /// <summary>d_model.</summary>
    public int Width { get; }

    /// <summary>H, the number of heads.</summary>
    public int Heads { get; }

    /// <summary>d_k = d_model / H, the width of one head.</summary>
    public int HeadWidth => Width / Heads;

    /// <summary>The four projections W^Q, W^K, W^V (each d×d, all heads side by side) and W^O.</summary>
    public Linear QueryProjection => q_proj;
    /// <inheritdoc cref="QueryProjection"/>
    public Linear KeyProjection => k_proj;
    /// <inheritdoc cref="QueryProjection"/>
    public Linear ValueProjection => v_proj;
    /// <inheritdoc cref="QueryProjection"/>
    public Linear OutputProjection => out_proj;

    /// <summary>4·d² + 4·d: four d×d matrices and four biases of width d.</summary>
    public static long ParameterCount(long width)
    {
        RebuiltRoutines.Enter("MultiHeadAttention.ParameterCount");
        return 4 * width * width + 4 * width;
    }

    public override AttentionResult forward(Tensor query, Tensor key, Tensor value, Tensor? mask = null, Tensor? keyPaddingMask = null)
    {
        RebuiltRoutines.Enter("MultiHeadAttention.forward");
        Validate(query, key, value);
        using var scope = NewDisposeScope();
        var allowed = CombinedMask(query, key, mask, keyPaddingMask);
        var q = SplitHeads(q_proj.forward(query), Heads);
        var k = SplitHeads(k_proj.forward(key), Heads);
        var v = SplitHeads(v_proj.forward(value), Heads);
        var attended = ScaledDotProductAttention.Compute(q, k, v, allowed);
        var context = training && dropout > 0
            ? nn.functional.dropout(attended.Weights, dropout, true).matmul(v)
            : attended.Output;
        var output = out_proj.forward(MergeHeads(context));
        return new AttentionResult(output.MoveToOuterDisposeScope(), attended.Weights.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The same computation as <see cref="forward"/> written as H separate single-head attentions, each with its
    /// own d_k rows of W^Q, W^K, W^V; their outputs are concatenated and projected by W^O. Slower, for teaching:
    /// it gives the same numbers as the batched version (without attention dropout).
    /// </summary>
    public AttentionResult ForwardHeadByHead(Tensor query, Tensor key, Tensor value, Tensor? mask = null, Tensor? keyPaddingMask = null)
    {
        RebuiltRoutines.Enter("MultiHeadAttention.ForwardHeadByHead");
        Validate(query, key, value);
        using var scope = NewDisposeScope();
        var allowed = CombinedMask(query, key, mask, keyPaddingMask);
        var outputs = new List<Tensor>();
        var weights = new List<Tensor>();
        for (int h = 0; h < Heads; h++)
        {
            var rows = TensorIndex.Slice(h * HeadWidth, (h + 1) * HeadWidth);
            var q = nn.functional.linear(query, q_proj.weight![rows], q_proj.bias![rows]);
            var k = nn.functional.linear(key, k_proj.weight![rows], k_proj.bias![rows]);
            var v = nn.functional.linear(value, v_proj.weight![rows], v_proj.bias![rows]);
            // A 4-D mask has a head axis: give this head its own slice of it (or the shared one).
            var headMask = allowed is null || allowed.dim() < 4 ? allowed : allowed[.., allowed.shape[1] == 1 ? 0 : h];
            var single = ScaledDotProductAttention.Compute(q, k, v, headMask);
            outputs.Add(single.Output);
            weights.Add(single.Weights);
        }
        var output = out_proj.forward(cat(outputs, -1));
        return new AttentionResult(output.MoveToOuterDisposeScope(), stack(weights, 1).MoveToOuterDisposeScope());
    }

    /// <summary>(B, L, H·d_k) → (B, H, L, d_k): each head gets its own contiguous slice of the width.</summary>
    public static Tensor SplitHeads(Tensor x, int heads)
    {
        RebuiltRoutines.Enter("MultiHeadAttention.SplitHeads");
        Guard.RankExactly(x, 3, nameof(x), "batch, length, width");
        if (heads <= 0 || x.shape[2] % heads != 0)
            throw new ArgumentException($"x's width {x.shape[2]} (shape {Guard.Shape(x)}) must split into {heads} equal heads.", nameof(heads));
        return x.view(x.shape[0], x.shape[1], heads, x.shape[2] / heads).transpose(1, 2);
    }

    /// <summary>(B, H, L, d_k) → (B, L, H·d_k): the inverse of <see cref="SplitHeads"/> (concatenate the heads).</summary>
    public static Tensor MergeHeads(Tensor x)
    {
        RebuiltRoutines.Enter("MultiHeadAttention.MergeHeads");
        Guard.RankExactly(x, 4, nameof(x), "batch, heads, length, head width");
        return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], x.shape[1] * x.shape[3]);
    }

    /// <summary>
    /// Copies these weights into TorchSharp's <c>nn.MultiheadAttention(width, heads)</c>: its packed
    /// <c>in_proj_weight</c> (3d, d) is [W^Q; W^K; W^V] stacked by rows, <c>in_proj_bias</c> likewise, and
    /// <c>out_proj</c> is ours. TorchSharp's module then computes the same function, with its own conventions:
    /// inputs are (L, B, d) (sequence first, no batch_first option); <c>key_padding_mask</c> (B, L_k) is boolean
    /// with true = ignore; <c>attn_mask</c> (L_q, L_k) is added to the scores — pass
    /// <c>Masks.ToAdditive(mask)</c>: a boolean attn_mask would be added as 0/1, not used as a mask (TorchSharp
    /// 0.107); the weights it returns are averaged over heads.
    /// </summary>
    public void CopyTo(MultiheadAttention target)
    {
        RebuiltRoutines.Enter("MultiHeadAttention.CopyTo");
        var p = target.named_parameters().ToDictionary(np => np.name, np => np.parameter);
        foreach (var name in new[] { "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias" })
            if (!p.ContainsKey(name))
                throw new ArgumentException(
                    $"target has no parameter '{name}' (it has {string.Join(", ", p.Keys)}); build it as nn.MultiheadAttention({Width}, {Heads}) with bias.", nameof(target));
        if (!p["in_proj_weight"].shape.SequenceEqual(new long[] { 3 * Width, Width }))
            throw new ArgumentException(
                $"target's in_proj_weight is {Guard.Shape(p["in_proj_weight"])} but this attention needs [{3 * Width}, {Width}] (width {Width}).", nameof(target));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        p["in_proj_weight"].copy_(cat([q_proj.weight!, k_proj.weight!, v_proj.weight!], 0));
        p["in_proj_bias"].copy_(cat([q_proj.bias!, k_proj.bias!, v_proj.bias!], 0));
        p["out_proj.weight"].copy_(out_proj.weight!);
        p["out_proj.bias"].copy_(out_proj.bias!);
    }

    void Validate(Tensor query, Tensor key, Tensor value)
    {
        Guard.RankExactly(query, 3, nameof(query), "batch, L_q, width");
        Guard.RankExactly(key, 3, nameof(key), "batch, L_k, width");
        Guard.RankExactly(value, 3, nameof(value), "batch, L_k, width");
        foreach (var (t, name) in new[] { (query, nameof(query)), (key, nameof(key)), (value, nameof(value)) })
            if (t.shape[2] != Width)
                throw new ArgumentException($"{name} has shape {Guard.Shape(t)} but its last dimension must be the width {Width}.", name);
        if (key.shape[0] != query.shape[0] || value.shape[0] != query.shape[0])
            throw new ArgumentException(
                $"query, key and value must have the same batch size, but they are {Guard.Shape(query)}, {Guard.Shape(key)} and {Guard.Shape(value)}.", nameof(key));
        if (key.shape[1] != value.shape[1])
            throw new ArgumentException(
                $"key and value must have the same length L_k, but key is {Guard.Shape(key)} and value is {Guard.Shape(value)}.", nameof(value));
    }

    /// <summary>The mask and the key-padding mask as one boolean mask that broadcasts to (B, H, L_q, L_k).</summary>
    Tensor? CombinedMask(Tensor query, Tensor key, Tensor? mask, Tensor? keyPaddingMask)
    {
        long b = query.shape[0], lq = query.shape[1], lk = key.shape[1];
        Tensor? result = null;
        if (mask is not null)
        {
            if (mask.dtype != ScalarType.Bool)
                throw new ArgumentException($"mask must be boolean (true = may attend) but is {mask.dtype}.", nameof(mask));
            long[] target = mask.dim() == 4 ? [b, Heads, lq, lk] : [b, lq, lk];
            if (!Guard.BroadcastsTo(mask.shape, target))
                throw new ArgumentException(
                    $"mask of shape {Guard.Shape(mask)} does not broadcast to [{string.Join(", ", target)}] " +
                    (mask.dim() == 4 ? "(batch, heads, L_q, L_k)." : "(batch, L_q, L_k)."), nameof(mask));
            result = mask.dim() == 3 ? mask.unsqueeze(1) : mask;
        }
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.dtype != ScalarType.Bool)
                throw new ArgumentException($"keyPaddingMask must be boolean (true = real key) but is {keyPaddingMask.dtype}.", nameof(keyPaddingMask));
            if (!keyPaddingMask.shape.SequenceEqual(new[] { b, lk }))
                throw new ArgumentException(
                    $"keyPaddingMask has shape {Guard.Shape(keyPaddingMask)} but must be [{b}, {lk}] (batch, L_k).", nameof(keyPaddingMask));
            var padding = keyPaddingMask.view(b, 1, 1, lk);
            result = result is null ? padding : result.logical_and(padding);
        }
        return result;
    }
}
