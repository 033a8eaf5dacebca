using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.InContext;

/// <summary>
/// A GPT without feed-forward networks (Elhage et al., 2021, "A Mathematical Framework for Transformer Circuits"):
/// token + learned position embeddings, then <c>Layers</c> residual steps x ← x + attention(LayerNorm(x)) with the
/// course's <see cref="CausalSelfAttention"/>, a final LayerNorm and an untied output matrix. Everything a token can
/// learn about other tokens must go through attention, which makes the heads easy to read.
/// forward(tokens (B, T)) → logits (B, T, vocab).
/// </summary>
public sealed class AttentionOnlyTransformer : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding, positionEmbedding;
    private readonly ModuleList<LayerNorm> norms;
    private readonly ModuleList<CausalSelfAttention> layers;
    private readonly LayerNorm finalNorm;
    private readonly Linear unembed;

    /// <param name="config">Vocabulary, context, layers, heads and width; Dropout must be 0 (the lesson trains without it).</param>
    public AttentionOnlyTransformer(GptConfig config) : base(nameof(AttentionOnlyTransformer))
    {
        Config = config.Validated();
        if (config.Dropout != 0) throw new ArgumentException($"config.Dropout must be 0 for the attention-only model but is {config.Dropout}.", nameof(config));
        tokenEmbedding = nn.Embedding(config.VocabSize, config.Width);
        positionEmbedding = nn.Embedding(config.ContextLength, config.Width);
        norms = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => nn.LayerNorm(config.Width)).ToArray());
        layers = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new CausalSelfAttention(config)).ToArray());
        finalNorm = nn.LayerNorm(config.Width);
        unembed = nn.Linear(config.Width, config.VocabSize, hasBias: false);
        // TorchSharp's default initialisation (embeddings N(0, 1), Linear layers uniform in ±1/√fan-in), not GPT-2's
        // N(0, 0.02): with such small query and key weights every head starts uniform and the plateau before induction
        // heads appear lasts much longer.
        RegisterComponents();
    }

    public GptConfig Config { get; }

    public long ParameterCount => parameters().Sum(p => p.NumberOfElements);

    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var x = Embed(tokens);
        for (int i = 0; i < layers.Count; i++) x = x + layers[i].forward(norms[i].forward(x), null);
        return unembed.forward(finalNorm.forward(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs <paramref name="tokens"/> (batch, T) with every attention layer computed by hand from its weights: the weights
    /// (layers, batch, heads, T, T) come from <see cref="AttentionProbe.LayerWeights"/>, each layer's output is
    /// (weights · V) projected, and the logits that result are returned with them. They match <see cref="forward"/>
    /// (the fused kernel) up to float rounding, so the weights shown are the weights the model uses.
    /// </summary>
    public AttentionTrace Trace(Tensor tokens)
    {
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var x = Embed(tokens);
            var (b, t) = (x.shape[0], x.shape[1]);
            int heads = Config.Heads, width = Config.Width;
            var maps = new List<Tensor>();
            for (int i = 0; i < layers.Count; i++)
            {
                var input = norms[i].forward(x);
                var weights = AttentionProbe.LayerWeights(layers[i], input, heads);
                var p = layers[i].named_parameters().ToDictionary(n => n.name, n => n.parameter);
                // Values as CausalSelfAttention packs them: the third block of the qkv projection, split into heads.
                var v = nn.functional.linear(input, p["qkv.weight"], p["qkv.bias"]).view(b, t, 3, heads, width / heads).permute(2, 0, 3, 1, 4)[2];
                var mixed = weights.matmul(v).transpose(1, 2).contiguous().view(b, t, width);
                x = x + nn.functional.linear(mixed, p["proj.weight"], p["proj.bias"]);
                maps.Add(weights);
            }
            var logits = unembed.forward(finalNorm.forward(x));
            return new AttentionTrace(stack(maps).MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
        }
        finally
        {
            train(wasTraining);
        }
    }

    Tensor Embed(Tensor tokens)
    {
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, time");
        long t = tokens.shape[1];
        if (t > Config.ContextLength)
            throw new ArgumentException($"tokens has {t} positions, more than the context length {Config.ContextLength}.", nameof(tokens));
        return tokenEmbedding.forward(tokens) + positionEmbedding.forward(arange(t, dtype: ScalarType.Int64, device: tokens.device));
    }
}
