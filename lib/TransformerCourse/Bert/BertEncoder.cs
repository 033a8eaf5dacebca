using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Tokenization;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>What <see cref="BertEncoder.Run"/> returns.</summary>
/// <param name="Hidden">The last layer's hidden states (B, L, d).</param>
/// <param name="HiddenStates">The embeddings' output and every layer's output, Layers + 1 tensors of (B, L, d) (with Pre-LN,
/// the last one after the final LayerNorm, so it equals Hidden).</param>
/// <param name="Attention">Every layer's self-attention weights (B, H, L, L); empty unless asked for.</param>
public sealed record BertEncoderOutput(Tensor Hidden, IReadOnlyList<Tensor> HiddenStates, IReadOnlyList<Tensor> Attention);

/// <summary>
/// BERT's encoder (Devlin et al., 2019): <see cref="InputEmbeddings"/> (token + learned position + segment, then
/// LayerNorm, from Lesson 12), dropout, and a stack of Section 2's <see cref="EncoderBlock"/>s, Post-LN with a GELU
/// feed-forward (or Pre-LN when <see cref="BertConfig.Norm"/> says so; then a final LayerNorm follows the last block).
/// forward(ids (B, L), segments (B, L), attentionMask (B, L) or null) → hidden states (B, L, d).
/// attentionMask is boolean, true for real tokens and false for [PAD]: no position attends to a [PAD] key.
/// </summary>
public sealed class BertEncoder : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly InputEmbeddings embeddings;
    private readonly Dropout dropout;
    private readonly ModuleList<EncoderBlock> layers;
    // Pre-LN only: the residual stream is never normalised inside the blocks, so it is normalised once at the end.
    private readonly LayerNorm? final_norm;

    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        Config = config.Validated();
        embeddings = new InputEmbeddings(config.VocabSize, config.MaxLength, config.Width, config.Segments);
        dropout = nn.Dropout(config.Dropout);
        layers = nn.ModuleList(Enumerable.Range(0, config.Layers)
            .Select(_ => new EncoderBlock(config.Width, config.Heads, config.FeedForwardWidth, config.Dropout,
                config.Norm, FeedForwardKind.Gelu)).ToArray());
        RegisterComponents();
        if (config.Norm == NormPlacement.Pre)
        {
            final_norm = nn.LayerNorm(config.Width);
            register_module("final_norm", final_norm);
        }
        InitializeWeights(this);
    }

    /// <summary>BERT's initialisation (its code's <c>init_weights</c>): every linear and embedding weight N(0, 0.02²),
    /// biases 0, LayerNorm gain 1 and shift 0. Small weights make every output near 0 at the start, so the MLM loss
    /// starts near ln V and the NSP loss near ln 2.</summary>
    public static void InitializeWeights(nn.Module module)
    {
        using var noGrad = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            if (m is Linear linear)
            {
                nn.init.normal_(linear.weight!, 0, 0.02);
                if (linear.bias is not null) nn.init.zeros_(linear.bias);
            }
            else if (m is Embedding embedding) nn.init.normal_(embedding.weight!, 0, 0.02);
        }
    }

    public BertConfig Config { get; }

    public InputEmbeddings Embeddings => embeddings;

    /// <summary>The encoder blocks, bottom first (e.g. to copy some of them into a smaller student).</summary>
    public IReadOnlyList<EncoderBlock> Layers => layers.ToList();

    /// <summary>The token embedding table (V, d); BERT's MLM output layer reuses it.</summary>
    public Tensor TokenTable => embeddings.TokenTable;

    public override Tensor forward(Tensor ids, Tensor segments, Tensor? attentionMask = null)
    {
        using var scope = NewDisposeScope();
        var mask = KeyMask(ids, attentionMask);
        var x = dropout.forward(embeddings.forward(ids, segments));
        foreach (var layer in layers) x = layer.forward(x, mask);
        if (final_norm is not null) x = final_norm.forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Like forward, and keeps every layer's hidden states and (when <paramref name="keepAttention"/>) attention weights.</summary>
    public BertEncoderOutput Run(Tensor ids, Tensor segments, Tensor? attentionMask = null, bool keepAttention = false)
    {
        using var scope = NewDisposeScope();
        var mask = KeyMask(ids, attentionMask);
        var x = dropout.forward(embeddings.forward(ids, segments));
        var states = new List<Tensor> { x };
        var attention = new List<Tensor>();
        foreach (var layer in layers)
        {
            var (output, weights) = layer.ForwardWithAttention(x, mask);
            x = output;
            states.Add(x);
            if (keepAttention) attention.Add(weights); else weights.Dispose();
        }
        if (final_norm is not null) states[^1] = x = final_norm.forward(x);   // the last state is what the heads read
        foreach (var t in states.Concat(attention)) t.MoveToOuterDisposeScope();
        return new BertEncoderOutput(x, states, attention);
    }

    /// <summary>(B, L) "real token" mask → (B, 1, L) key mask for the blocks; null stays null.</summary>
    static Tensor? KeyMask(Tensor ids, Tensor? attentionMask)
    {
        Guard.RankExactly(ids, 2, nameof(ids), "batch, length");
        if (attentionMask is null) return null;
        if (!attentionMask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException($"attentionMask has shape {Guard.Shape(attentionMask)} but ids has {Guard.Shape(ids)}.", nameof(attentionMask));
        if (attentionMask.dtype != ScalarType.Bool)
            throw new ArgumentException($"attentionMask must be boolean (true = real token) but is {attentionMask.dtype}.", nameof(attentionMask));
        return attentionMask.unsqueeze(1);
    }
}
