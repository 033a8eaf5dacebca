using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>A pre-LayerNorm block like <see cref="GptBlock"/> whose attention is <see cref="GroupedQueryAttention"/>.</summary>
public sealed class GqaBlock : nn.Module<Tensor, LayerKvCache?, Tensor>
{
    private readonly LayerNorm ln1, ln2;
    private readonly GroupedQueryAttention attn;
    private readonly Mlp mlp;

    public GqaBlock(GptConfig config, int kvHeads) : base(nameof(GqaBlock))
    {
        ln1 = nn.LayerNorm(config.Width);
        attn = new GroupedQueryAttention(config.Width, config.Heads, kvHeads);
        ln2 = nn.LayerNorm(config.Width);
        mlp = new Mlp(config);
        RegisterComponents();
    }

    internal GroupedQueryAttention Attention => attn;
    internal LayerNorm AttentionNorm => ln1;
    internal Mlp Mlp => mlp;

    public override Tensor forward(Tensor x, LayerKvCache? cache)
    {
        using var scope = NewDisposeScope();
        x = x + attn.forward(ln1.forward(x), cache);
        x = x + mlp.forward(ln2.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// <see cref="GptModel"/> with grouped-query attention: the same embeddings, pre-LN blocks, final LayerNorm, tied output
/// head and GPT-2 initialisation, with <see cref="KvHeads"/> key/value heads per layer instead of one per query head.
/// With <c>kvHeads = config.Heads</c> and <see cref="LoadFromGpt"/> it computes exactly what the GptModel computes.
/// </summary>
public sealed class GqaGptModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding, positionEmbedding;
    private readonly ModuleList<GqaBlock> blocks;
    private readonly LayerNorm finalNorm;

    public GqaGptModel(GptConfig config, int kvHeads) : base(nameof(GqaGptModel))
    {
        Config = config.Validated();
        if (config.Dropout != 0) throw new ArgumentException($"GqaGptModel has no dropout; config.Dropout is {config.Dropout}.", nameof(config));
        if (kvHeads <= 0 || config.Heads % kvHeads != 0)
            throw new ArgumentException($"kvHeads ({kvHeads}) must be a positive divisor of config.Heads ({config.Heads}).", nameof(kvHeads));
        KvHeads = kvHeads;
        tokenEmbedding = nn.Embedding(config.VocabSize, config.Width);
        positionEmbedding = nn.Embedding(config.ContextLength, config.Width);
        blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new GqaBlock(config, kvHeads)).ToArray());
        finalNorm = nn.LayerNorm(config.Width);
        RegisterComponents();
        Initialize();
    }

    public GptConfig Config { get; }
    public int KvHeads { get; }

    public long ParameterCount => parameters().Sum(p => p.NumberOfElements);

    /// <summary>Token positions run through the blocks so far (batch × new positions, summed over calls).</summary>
    public long PositionsComputed { get; private set; }

    public override Tensor forward(Tensor tokens) => Forward(tokens, null);

    /// <summary>Logits (B, T, vocab) for the new tokens; with a cache, positions continue after what it holds.</summary>
    public Tensor Forward(Tensor tokens, KvCache? cache)
    {
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, time");
        long past = cache?.Length ?? 0, t = tokens.shape[1];
        if (cache is not null && cache.Layers.Count != blocks.Count)
            throw new ArgumentException($"cache has {cache.Layers.Count} layers but the model has {blocks.Count}.", nameof(cache));
        if (past + t > Config.ContextLength)
            throw new ArgumentException($"tokens has {t} positions after {past} cached ones, more than the context length {Config.ContextLength}.", nameof(tokens));
        PositionsComputed += tokens.shape[0] * t;
        using var scope = NewDisposeScope();
        var positions = arange(past, past + t, dtype: ScalarType.Int64, device: tokens.device);
        var x = tokenEmbedding.forward(tokens) + positionEmbedding.forward(positions);
        for (int i = 0; i < blocks.Count; i++) x = blocks[i].forward(x, cache?.Layers[i]);
        return nn.functional.linear(finalNorm.forward(x), tokenEmbedding.weight!).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-entropy of next-token prediction, averaged over all positions.</summary>
    public Tensor Loss(Tensor tokens, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var logits = forward(tokens);
        return nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.reshape(-1)).MoveToOuterDisposeScope();
    }

    /// <summary>Attention weights (B, H, T, T) of one layer for <paramref name="tokens"/> (B, T), in evaluation mode.</summary>
    public Tensor AttentionWeights(Tensor tokens, int layer)
    {
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, time");
        if (layer < 0 || layer >= blocks.Count) throw new ArgumentException($"layer must be in [0, {blocks.Count}) but is {layer}.", nameof(layer));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long t = tokens.shape[1];
        var x = tokenEmbedding.forward(tokens) + positionEmbedding.forward(arange(t, dtype: ScalarType.Int64, device: tokens.device));
        for (int i = 0; i < layer; i++) x = blocks[i].forward(x, null);
        return blocks[layer].Attention.Weights(blocks[layer].AttentionNorm.forward(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Copies a <see cref="GptModel"/>'s weights into this model, which must have the same config and as many key/value
    /// heads as query heads. Every tensor except the attention projections has the same name in both models.
    /// </summary>
    public void LoadFromGpt(GptModel gpt)
    {
        ArgumentNullException.ThrowIfNull(gpt);
        if (gpt.Config with { UseFusedAttention = true } != Config with { UseFusedAttention = true })
            throw new ArgumentException($"gpt has config {gpt.Config}, this model {Config}.", nameof(gpt));
        if (KvHeads != Config.Heads)
            throw new ArgumentException($"only a model with kvHeads = heads ({Config.Heads}) matches a GptModel; this one has {KvHeads}.", nameof(gpt));
        var source = gpt.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
            if (!name.Contains(".attn.", StringComparison.Ordinal)) p.copy_(source[name]);
        var gptBlocks = gpt.modules().OfType<GptBlock>().ToList();
        for (int i = 0; i < blocks.Count; i++) blocks[i].Attention.LoadFromMultiHead(gptBlocks[i].Attention);
    }

    /// <summary>GPT-2's initialisation, as in <see cref="GptModel"/>.</summary>
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
            nn.init.normal_(b.Mlp.OutputProjection.weight!, 0, std);
        }
    }
}
