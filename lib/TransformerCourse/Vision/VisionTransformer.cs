using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Vision;

/// <summary>Sizes of a <see cref="VisionTransformer"/>.</summary>
public sealed record VitConfig(int ImageSize = 28, int Patch = 7, int Width = 64, int Layers = 2, int Heads = 4,
    int FeedForwardWidth = 128, int Classes = 10, double Dropout = 0.0);

/// <summary>
/// A small Vision Transformer (Dosovitskiy et al., 2021): <see cref="PatchEmbedding"/>, a stack of the course's
/// Pre-LN <see cref="EncoderBlock"/>s with GELU feed-forward layers (no attention code of its own), a final
/// LayerNorm, and a linear head on the [CLS] token's output. forward(images (B, H, W)) → logits (B, classes).
/// </summary>
public sealed class VisionTransformer : nn.Module<Tensor, Tensor>
{
    private readonly PatchEmbedding embed;
    private readonly ModuleList<EncoderBlock> blocks;
    private readonly LayerNormalization norm;
    private readonly Linear head;

    public VisionTransformer(VitConfig config) : base(nameof(VisionTransformer))
    {
        Config = config;
        embed = new PatchEmbedding(config.ImageSize, config.Patch, config.Width);
        blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ =>
            new EncoderBlock(config.Width, config.Heads, config.FeedForwardWidth, config.Dropout, NormPlacement.Pre, FeedForwardKind.Gelu)).ToArray());
        norm = new LayerNormalization(config.Width);
        head = nn.Linear(config.Width, config.Classes);
        RegisterComponents();
    }

    public VitConfig Config { get; }
    public PatchEmbedding Embedding => embed;

    /// <summary>The final [CLS] vector (B, d), after the last LayerNorm: what the head classifies.</summary>
    public Tensor Features(Tensor images) => Encode(images, null);

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return head.forward(Features(images)).MoveToOuterDisposeScope();
    }

    /// <summary>Logits and every layer's self-attention weights, each (B, heads, 1 + N, 1 + N).</summary>
    public (Tensor Logits, List<Tensor> Attention) ForwardWithAttention(Tensor images)
    {
        var attention = new List<Tensor>();
        using var scope = NewDisposeScope();
        var logits = head.forward(Encode(images, attention)).MoveToOuterDisposeScope();
        foreach (var a in attention) a.MoveToOuterDisposeScope();
        return (logits, attention);
    }

    Tensor Encode(Tensor images, List<Tensor>? attention)
    {
        using var scope = NewDisposeScope();
        var x = embed.forward(images);
        foreach (var block in blocks)
        {
            var (output, weights) = block.ForwardWithAttention(x);
            x = output;
            attention?.Add(weights);
        }
        var cls = norm.forward(x)[.., 0];
        if (attention is not null) foreach (var a in attention) a.MoveToOuterDisposeScope();
        return cls.MoveToOuterDisposeScope();
    }
}
