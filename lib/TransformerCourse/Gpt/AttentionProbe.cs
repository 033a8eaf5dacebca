using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Attention;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>Attention weights (layers, batch, heads, T, T) and logits (batch, T, vocab) of one forward pass.</summary>
public sealed record AttentionTrace(Tensor Weights, Tensor Logits) : IDisposable
{
    public void Dispose()
    {
        Weights.Dispose();
        Logits.Dispose();
    }
}

/// <summary>
/// The attention weights a <see cref="GptModel"/> uses, for heatmaps. The fused kernel never materialises
/// them, so the probe walks the model block by block (in evaluation mode, without a cache) and, at each
/// attention layer, recomputes softmax(Q Kᵀ / √d) under the causal mask with the course's from-scratch attention.
/// </summary>
public static class AttentionProbe
{
    /// <summary>Runs <paramref name="tokens"/> (batch, T) through the model and keeps every layer's weights.</summary>
    public static AttentionTrace Run(GptModel model, Tensor tokens)
    {
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, time");
        long t = tokens.shape[1];
        if (t > model.Config.ContextLength)
            throw new ArgumentException($"tokens has {t} positions, more than the context length {model.Config.ContextLength}.", nameof(tokens));
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var parts = Children(model);
            var tokenEmbedding = (Embedding)parts["tokenEmbedding"];
            var x = tokenEmbedding.forward(tokens) + ((Embedding)parts["positionEmbedding"]).forward(arange(t, device: tokens.device));
            var maps = new List<Tensor>();
            foreach (var block in model.modules().OfType<GptBlock>())
            {
                var attentionInput = ((LayerNorm)Children(block)["ln1"]).forward(x);
                maps.Add(LayerWeights(block.Attention, attentionInput, model.Config.Heads));
                x = block.forward(x, null);
            }
            var logits = nn.functional.linear(((LayerNorm)parts["finalNorm"]).forward(x), tokenEmbedding.weight!);
            return new AttentionTrace(stack(maps).MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>Weights (batch, heads, T, T) of one attention layer for its input <paramref name="x"/> (batch, T, width).</summary>
    public static Tensor LayerWeights(CausalSelfAttention layer, Tensor x, int heads)
    {
        Guard.RankExactly(x, 3, nameof(x), "batch, time, width");
        var (b, t, width) = (x.shape[0], x.shape[1], x.shape[2]);
        if (heads <= 0 || width % heads != 0)
            throw new ArgumentException($"heads ({heads}) must be positive and divide the width of x {Guard.Shape(x)}.", nameof(heads));
        using var scope = NewDisposeScope();
        var p = layer.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        // The same packing as CausalSelfAttention: (B, T, 3C) → q, k, v of shape (B, H, T, C/H).
        var qkv = nn.functional.linear(x, p["qkv.weight"], p["qkv.bias"]).view(b, t, 3, heads, width / heads).permute(2, 0, 3, 1, 4);
        var weights = ScaledDotProductAttention.Compute(qkv[0], qkv[1], qkv[2], Masks.Causal(t, x.device)).Weights;
        return weights.MoveToOuterDisposeScope();
    }

    static Dictionary<string, nn.Module> Children(nn.Module module) => module.named_children().ToDictionary(c => c.name, c => c.module);
}
