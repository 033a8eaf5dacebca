using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.MoE;

/// <summary>A pre-LN block whose feed-forward network is a mixture of experts: x + attn(ln(x)), then x + moe(ln(x)).</summary>
public sealed class MoeBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm ln1, ln2;
    private readonly CausalSelfAttention attn;
    private readonly MoeFeedForward moe;

    public MoeBlock(GptConfig gpt, MoeConfig config) : base(nameof(MoeBlock))
    {
        ln1 = nn.LayerNorm(gpt.Width);
        attn = new CausalSelfAttention(gpt);
        ln2 = nn.LayerNorm(gpt.Width);
        moe = new MoeFeedForward(gpt, config);
        RegisterComponents();
    }

    internal CausalSelfAttention Attention => attn;
    public MoeFeedForward Moe => moe;

    public override Tensor forward(Tensor x)
    {
        var (y, balance, _) = Forward(x);
        balance.Dispose();
        return y;
    }

    /// <summary>The block's output, its MoE layer's balancing loss and routing statistics.</summary>
    public (Tensor Output, Tensor BalanceLoss, RoutingStats Stats) Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x + attn.forward(ln1.forward(x), null);
        var routed = moe.Route(ln2.forward(x));
        return ((x + routed.Output).MoveToOuterDisposeScope(), routed.BalanceLoss.MoveToOuterDisposeScope(), routed.Stats);
    }
}

/// <summary>What <see cref="MoeGptModel.Losses"/> returns for one batch.</summary>
/// <param name="CrossEntropy">Next-token cross-entropy averaged over positions.</param>
/// <param name="BalanceLoss">The Switch balancing loss averaged over the layers (1 when every layer routes uniformly).</param>
/// <param name="Layers">Routing statistics of each layer, first layer first.</param>
public sealed record MoeLosses(Tensor CrossEntropy, Tensor BalanceLoss, IReadOnlyList<RoutingStats> Layers);

/// <summary>
/// The course's GPT (<see cref="GptModel"/>: token + position embeddings, pre-LN blocks, final LayerNorm, tied output
/// head, GPT-2 initialisation) with every block's feed-forward network replaced by a <see cref="MoeFeedForward"/>.
/// With k = 1 each token passes through one expert the size of the dense FFN, so the parameters a token uses are the
/// dense model's plus the router's.
/// </summary>
public sealed class MoeGptModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding, positionEmbedding;
    private readonly ModuleList<MoeBlock> blocks;
    private readonly LayerNorm finalNorm;

    public MoeGptModel(GptConfig gpt, MoeConfig moe) : base(nameof(MoeGptModel))
    {
        Config = gpt.Validated();
        Moe = moe.Validated();
        if (gpt.Dropout != 0) throw new ArgumentException($"MoeGptModel supports Dropout 0 only, but the config has {gpt.Dropout}.", nameof(gpt));
        tokenEmbedding = nn.Embedding(gpt.VocabSize, gpt.Width);
        positionEmbedding = nn.Embedding(gpt.ContextLength, gpt.Width);
        blocks = nn.ModuleList(Enumerable.Range(0, gpt.Layers).Select(_ => new MoeBlock(gpt, moe)).ToArray());
        finalNorm = nn.LayerNorm(gpt.Width);
        RegisterComponents();
        Initialize();
    }

    public GptConfig Config { get; }
    public MoeConfig Moe { get; }
    public IReadOnlyList<MoeBlock> Blocks => [.. blocks];

    /// <summary>All parameters, counted once (the tied head adds none).</summary>
    public long ParameterCount => parameters().Sum(p => p.NumberOfElements);

    /// <summary>Parameters one token actually uses: everything except the N − k experts it is not sent to, in every layer.</summary>
    public long ActiveParameterCount => ParameterCount - blocks.Sum(b => (long)(Moe.Experts - Moe.TopK) * b.Moe.ExpertParameters);

    public override Tensor forward(Tensor tokens)
    {
        var (logits, balance, _) = Forward(tokens);
        balance.Dispose();
        return logits;
    }

    /// <summary>Logits (B, T, vocab), the balancing loss averaged over layers, and each layer's routing statistics.</summary>
    public (Tensor Logits, Tensor BalanceLoss, IReadOnlyList<RoutingStats> Layers) Forward(Tensor tokens)
    {
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, time");
        long t = tokens.shape[1];
        if (t > Config.ContextLength)
            throw new ArgumentException($"tokens has {t} positions, more than the context length {Config.ContextLength}.", nameof(tokens));
        using var scope = NewDisposeScope();
        var positions = arange(0, t, dtype: ScalarType.Int64, device: tokens.device);
        var x = tokenEmbedding.forward(tokens) + positionEmbedding.forward(positions);
        var stats = new List<RoutingStats>();
        Tensor balance = zeros([], device: tokens.device);
        foreach (var block in blocks)
        {
            var (y, b, s) = block.Forward(x);
            x = y;
            balance = balance + b;
            stats.Add(s);
        }
        var logits = nn.functional.linear(finalNorm.forward(x), tokenEmbedding.weight!);
        return (logits.MoveToOuterDisposeScope(), (balance / blocks.Count).MoveToOuterDisposeScope(), stats);
    }

    /// <summary>Cross-entropy of next-token prediction plus the balancing loss and routing statistics.</summary>
    public MoeLosses Losses(Tensor tokens, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var (logits, balance, stats) = Forward(tokens);
        var ce = nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.reshape(-1));
        return new MoeLosses(ce.MoveToOuterDisposeScope(), balance.MoveToOuterDisposeScope(), stats);
    }

    /// <summary>GPT-2's initialisation, as in <see cref="GptModel"/>: N(0, 0.02) matrices (router included), zero biases,
    /// residual-stream output projections scaled by 1/√(2·layers).</summary>
    void Initialize()
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("bias", StringComparison.Ordinal)) p.zero_();
            else if (p.dim() >= 2) nn.init.normal_(p, 0, 0.02);
        }
        var std = 0.02 / Math.Sqrt(2 * Config.Layers);
        foreach (var b in blocks)
        {
            nn.init.normal_(b.Attention.OutputProjection.weight!, 0, std);
            foreach (var expert in b.Moe.Experts) nn.init.normal_(expert.OutputProjection.weight!, 0, std);
        }
    }
}
