using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>
/// Causal grouped-query attention (Ainslie et al., 2023): <c>heads</c> query heads share <c>kvHeads</c> key/value heads,
/// each key/value head serving a group of <c>heads / kvHeads</c> consecutive query heads. <c>kvHeads = 1</c> is
/// multi-query attention (Shazeer, 2019); <c>kvHeads = heads</c> is ordinary multi-head attention. Only the
/// <c>kvHeads</c> heads go into a <see cref="LayerKvCache"/>, so the cache shrinks by <c>heads / kvHeads</c>.
/// Parameter names follow LLaMA's attention (q_proj, k_proj, v_proj, o_proj). forward(x (B, T, C), cache) → (B, T, C).
/// </summary>
public sealed class GroupedQueryAttention : nn.Module<Tensor, LayerKvCache?, Tensor>
{
#pragma warning disable IDE1006 // PyTorch/LLaMA parameter names
    private readonly Linear q_proj, k_proj, v_proj, o_proj;
#pragma warning restore IDE1006

    /// <param name="width">Model width C (input and output features).</param>
    /// <param name="heads">Query heads H; C must be a multiple of H.</param>
    /// <param name="kvHeads">Key/value heads, a divisor of H: 1 (multi-query) … H (multi-head).</param>
    /// <param name="bias">Biases on the four projections (GPT-2 has them, LLaMA does not).</param>
    public GroupedQueryAttention(int width, int heads, int kvHeads, bool bias = true) : base(nameof(GroupedQueryAttention))
    {
        if (heads <= 0) throw new ArgumentException($"heads must be positive but is {heads}.", nameof(heads));
        if (width <= 0 || width % heads != 0) throw new ArgumentException($"width ({width}) must be a positive multiple of heads ({heads}).", nameof(width));
        if (kvHeads <= 0 || heads % kvHeads != 0)
            throw new ArgumentException($"kvHeads ({kvHeads}) must be a positive divisor of heads ({heads}).", nameof(kvHeads));
        (Width, Heads, KvHeads, HeadWidth) = (width, heads, kvHeads, width / heads);
        q_proj = nn.Linear(width, width, hasBias: bias);
        k_proj = nn.Linear(width, kvHeads * HeadWidth, hasBias: bias);
        v_proj = nn.Linear(width, kvHeads * HeadWidth, hasBias: bias);
        o_proj = nn.Linear(width, width, hasBias: bias);
        RegisterComponents();
    }

    public int Width { get; }
    public int Heads { get; }
    public int KvHeads { get; }
    public int HeadWidth { get; }

    /// <summary>Query heads per key/value head.</summary>
    public int Groups => Heads / KvHeads;

    /// <summary>Fused kernel (default) or the course's from-scratch attention; both give the same numbers.</summary>
    public bool UseFused { get; set; } = true;

    /// <summary>The output projection (its initial scale depends on depth in a GPT).</summary>
    internal Linear OutputProjection => o_proj;

    public override Tensor forward(Tensor x, LayerKvCache? cache)
    {
        Guard.RankExactly(x, 3, nameof(x), "batch, time, width");
        if (x.shape[2] != Width) throw new ArgumentException($"x has width {x.shape[2]} but the module was built for width {Width}.", nameof(x));
        using var scope = NewDisposeScope();
        var (q, k, v, past) = Project(x, cache);
        long t = x.shape[1];
        Tensor? mask = null;
        bool causal = false;
        if (t > 1)
        {
            if (past == 0) causal = true;
            else mask = CausalSelfAttention.ChunkMask(t, past, x.device);
        }
        Tensor y;
        if (UseFused) y = nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, causal);
        else
        {
            mask ??= causal ? Masks.Causal(t, x.device) : null;
            y = CausalSelfAttention.AttendFromScratch(q, k, v, mask, 0.0);
        }
        y = y.transpose(1, 2).contiguous().view(x.shape[0], t, Width);
        return o_proj.forward(y).MoveToOuterDisposeScope();
    }

    /// <summary>The attention weights (B, H, T, T) of a forward pass without a cache, for heatmaps.</summary>
    public Tensor Weights(Tensor x)
    {
        Guard.RankExactly(x, 3, nameof(x), "batch, time, width");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (q, k, v, _) = Project(x, null);
        var result = ScaledDotProductAttention.Compute(q, k, v, Masks.Causal(x.shape[1], x.device));
        return result.Weights.MoveToOuterDisposeScope();
    }

    /// <summary>Queries (B, H, T, d) and the keys and values every query head reads (B, H, T_all, d), after the cache.</summary>
    (Tensor Q, Tensor K, Tensor V, long Past) Project(Tensor x, LayerKvCache? cache)
    {
        var (b, t) = (x.shape[0], x.shape[1]);
        var q = q_proj.forward(x).view(b, t, Heads, HeadWidth).transpose(1, 2);
        var k = k_proj.forward(x).view(b, t, KvHeads, HeadWidth).transpose(1, 2);
        var v = v_proj.forward(x).view(b, t, KvHeads, HeadWidth).transpose(1, 2);
        long past = 0;
        if (cache is not null)
        {
            past = cache.Length;
            (k, v) = cache.Append(k, v);   // the cache holds only the KvHeads heads
        }
        return (q, RepeatKv(k, Heads), RepeatKv(v, Heads), past);
    }

    /// <summary>
    /// Expands keys or values (B, kvHeads, T, d) to (B, queryHeads, T, d) so that query head h reads key/value head
    /// h / (queryHeads / kvHeads): each key/value head is repeated for its consecutive group of query heads
    /// (LLaMA's repeat_kv). Returns the input itself (an alias) when there is nothing to repeat.
    /// </summary>
    public static Tensor RepeatKv(Tensor kv, int queryHeads)
    {
        RebuiltRoutines.Enter("GroupedQueryAttention.RepeatKv");
        Guard.RankExactly(kv, 4, nameof(kv), "batch, kv heads, time, head width");
        long kvHeads = kv.shape[1];
        if (queryHeads <= 0 || queryHeads % kvHeads != 0)
            throw new ArgumentException($"queryHeads ({queryHeads}) must be a positive multiple of the {kvHeads} key/value heads in kv {Guard.Shape(kv)}.", nameof(queryHeads));
        long groups = queryHeads / kvHeads;
        return groups == 1 ? kv.alias() : kv.repeat_interleave(groups, dim: 1);
    }

    /// <summary>
    /// Copies the weights of a <see cref="CausalSelfAttention"/> (one fused qkv projection, then proj) into this module,
    /// which must have as many key/value heads as query heads: the two then compute the same function.
    /// </summary>
    public void LoadFromMultiHead(CausalSelfAttention attention)
    {
        ArgumentNullException.ThrowIfNull(attention);
        if (KvHeads != Heads)
            throw new ArgumentException($"only a module with kvHeads = heads ({Heads}) matches multi-head attention; this one has {KvHeads}.", nameof(attention));
        var source = attention.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        if (!source.TryGetValue("qkv.weight", out var qkv) || qkv.shape[0] != 3 * Width || qkv.shape[1] != Width)
            throw new ArgumentException($"attention must have width {Width} (a qkv weight of shape [{3 * Width}, {Width}]).", nameof(attention));
        using var noGrad = no_grad();
        var qkvBias = source.GetValueOrDefault("qkv.bias");
        var linears = new[] { q_proj, k_proj, v_proj };
        for (int i = 0; i < 3; i++)
        {
            linears[i].weight!.copy_(qkv[(i * Width)..((i + 1) * Width)]);
            if (linears[i].bias is { } b) b.copy_(qkvBias is null ? zeros(Width) : qkvBias[(i * Width)..((i + 1) * Width)]);
        }
        o_proj.weight!.copy_(source["proj.weight"]);
        if (o_proj.bias is { } ob) ob.copy_(source.GetValueOrDefault("proj.bias") ?? zeros(Width));
    }
}
