using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>
/// A small masked-language-model encoder with ALBERT's switches (<see cref="EncoderVariantConfig"/>): token embedding
/// (plain or factorised) + learned positions → LayerNorm → <see cref="SharedLayerStack"/> → final LayerNorm → MLM head
/// (H → E' transform, GELU, LayerNorm, then logits against the token table, tied as in BERT, plus a bias).
/// forward(ids (B, L)) → MLM logits (B, L, V). Padding: pass the attention mask (B, L), true for real tokens, to
/// <see cref="Hidden"/> / <see cref="Logits"/> so no position attends to padding.
/// </summary>
public sealed class EncoderVariant : nn.Module<Tensor, Tensor>
{
    private readonly Embedding? token;
    private readonly FactorisedEmbedding? factorised;
    private readonly Embedding position;
    private readonly LayerNorm embedding_norm, final_norm, head_norm;
    private readonly SharedLayerStack layers;
    private readonly Linear head_transform;
    private readonly Parameter head_bias;
    private readonly Dropout dropout;

    public EncoderVariant(EncoderVariantConfig config) : base(nameof(EncoderVariant))
    {
        Config = config.Validated();
        if (config.Factorised) factorised = new FactorisedEmbedding(config.VocabSize, config.EmbeddingWidth, config.Width);
        else
        {
            token = nn.Embedding(config.VocabSize, config.Width);
            using (no_grad()) nn.init.normal_(token.weight!, 0, 0.02);
        }
        position = nn.Embedding(config.MaxLength, config.Width);
        using (no_grad()) nn.init.normal_(position.weight!, 0, 0.02);
        embedding_norm = nn.LayerNorm(config.Width);
        dropout = nn.Dropout(config.Dropout);
        layers = new SharedLayerStack(config.Depth, config.DistinctLayers, config.Width, config.Heads, config.FeedForwardWidth, config.Dropout);
        final_norm = nn.LayerNorm(config.Width);
        head_transform = nn.Linear(config.Width, config.TokenWidth);
        head_norm = nn.LayerNorm(config.TokenWidth);
        head_bias = new Parameter(zeros(config.VocabSize));
        RegisterComponents();
    }

    public EncoderVariantConfig Config { get; }

    /// <summary>The token table the MLM head is tied to: V×H, or V×E when factorised.</summary>
    public Tensor TokenTable => factorised?.TokenTable ?? token!.weight!;

    /// <summary>Number of trainable values, summed over the module's parameters (each shared tensor counted once).</summary>
    public long CountParameters() => parameters().Sum(p => p.numel());

    /// <summary>The input to the first layer followed by every layer's output (Depth + 1 tensors of (B, L, H)); the last
    /// one has passed the final LayerNorm.</summary>
    public List<Tensor> HiddenStates(Tensor ids, Tensor? attentionMask = null)
    {
        Guard.RankExactly(ids, 2, nameof(ids), "batch, length");
        long length = ids.shape[1];
        if (length > Config.MaxLength)
            throw new ArgumentException($"ids has length {length} (shape {Guard.Shape(ids)}) but MaxLength is {Config.MaxLength}.", nameof(ids));
        if (ids.numel() > 0 && (ids.min().item<long>() < 0 || ids.max().item<long>() >= Config.VocabSize))
            throw new ArgumentException($"ids must lie in 0..{Config.VocabSize - 1} but range over {ids.min().item<long>()}..{ids.max().item<long>()}.", nameof(ids));
        var tokens = factorised is not null ? factorised.forward(ids) : token!.forward(ids);
        var positions = position.forward(arange(length, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0));
        var x = dropout.forward(embedding_norm.forward(tokens + positions));
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException($"attentionMask has shape {Guard.Shape(attentionMask)} but ids has {Guard.Shape(ids)}.", nameof(attentionMask));
        var mask = attentionMask?.to_type(ScalarType.Bool).unsqueeze(1);   // (B, 1, L): no query attends to padding
        var states = layers.ForwardAll(x, mask);
        states[^1] = final_norm.forward(states[^1]);
        return states;
    }

    /// <summary>The final hidden states (B, L, H).</summary>
    public Tensor Hidden(Tensor ids, Tensor? attentionMask = null) => HiddenStates(ids, attentionMask)[^1];

    /// <summary>MLM logits (B, L, V) from final hidden states.</summary>
    public Tensor MlmHead(Tensor hidden)
    {
        var h = head_norm.forward(nn.functional.gelu(head_transform.forward(hidden)));
        return matmul(h, TokenTable.t()) + head_bias;
    }

    /// <summary>MLM logits (B, L, V).</summary>
    public Tensor Logits(Tensor ids, Tensor? attentionMask = null) => MlmHead(Hidden(ids, attentionMask));

    public override Tensor forward(Tensor ids) => Logits(ids);
}
