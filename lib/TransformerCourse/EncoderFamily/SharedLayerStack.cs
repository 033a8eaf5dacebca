using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>
/// A stack of <see cref="Depth"/> encoder layers in which the layers may share their weights (ALBERT's cross-layer
/// sharing, Lan et al., 2020, §3.1). With <see cref="DistinctLayers"/> = 1 one layer is applied <see cref="Depth"/>
/// times (ALBERT's default, all parameters shared); with DistinctLayers = Depth every layer has its own weights (BERT).
/// In between, consecutive groups of Depth / DistinctLayers applications share one layer. The compute per token is
/// the same in every case; only the parameter count changes: DistinctLayers × one layer.
/// forward(x (B, L, H), mask broadcastable to (B, L, L), true = may attend) → (B, L, H).
/// </summary>
public sealed class SharedLayerStack : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<EncoderBlock> layers;

    public SharedLayerStack(int depth, int distinctLayers, int width, int heads, int feedForwardWidth, double dropout = 0.0,
        NormPlacement norm = NormPlacement.Pre, FeedForwardKind feedForward = FeedForwardKind.Gelu) : base(nameof(SharedLayerStack))
    {
        Guard.Positive(depth, nameof(depth));
        Guard.Positive(distinctLayers, nameof(distinctLayers));
        if (depth % distinctLayers != 0)
            throw new ArgumentException($"distinctLayers ({distinctLayers}) must divide depth ({depth}).", nameof(distinctLayers));
        (Depth, DistinctLayers) = (depth, distinctLayers);
        layers = new ModuleList<EncoderBlock>(Enumerable.Range(0, distinctLayers)
            .Select(_ => new EncoderBlock(width, heads, feedForwardWidth, dropout, norm, feedForward)).ToArray());
        RegisterComponents();
    }

    /// <summary>How many layers are applied to the input.</summary>
    public int Depth { get; }

    /// <summary>How many of them have their own weights.</summary>
    public int DistinctLayers { get; }

    /// <summary>Which distinct layer the <paramref name="application"/>-th pass (0-based) uses.</summary>
    public int LayerFor(int application) => application / (Depth / DistinctLayers);

    /// <summary>DistinctLayers × (one encoder layer).</summary>
    public static long ParameterCount(int distinctLayers, int width, int feedForwardWidth, NormPlacement norm = NormPlacement.Pre,
        FeedForwardKind feedForward = FeedForwardKind.Gelu) =>
        distinctLayers * EncoderBlock.ParameterCount(new TransformerConfig(1, width, 1, feedForwardWidth, Norm: norm, FeedForward: feedForward));

    public override Tensor forward(Tensor x, Tensor? mask = null) => ForwardAll(x, mask)[^1];

    /// <summary>The input followed by the output of every application: Depth + 1 tensors.</summary>
    public List<Tensor> ForwardAll(Tensor x, Tensor? mask = null)
    {
        var states = new List<Tensor> { x };
        for (int i = 0; i < Depth; i++) states.Add(layers[LayerFor(i)].forward(states[^1], mask));
        return states;
    }
}
