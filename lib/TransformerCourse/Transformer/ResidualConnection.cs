using TransformerCourse.Exercises;
using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>Where a block normalises relative to its residual connection.</summary>
public enum NormPlacement
{
    /// <summary>Post-LN, the 2017 paper: LayerNorm(x + Dropout(Sublayer(x))). No final norm after the stack.</summary>
    Post,
    /// <summary>Pre-LN (GPT-2 and most models since): x + Dropout(Sublayer(LayerNorm(x))); the stack ends with a LayerNorm.</summary>
    Pre,
    /// <summary>No normalisation at all: x + Dropout(Sublayer(x)). For experiments only.</summary>
    None,
}

/// <summary>
/// The residual wrapper around one sub-layer (attention or feed-forward): adds the sub-layer's output back to its
/// input, with dropout on the sub-layer's output and a <see cref="LayerNormalization"/> placed as
/// <see cref="NormPlacement"/> says. forward(x (…, d), sublayer) → (…, d). Parameters: 2·d (none for
/// <see cref="NormPlacement.None"/>).
/// </summary>
public sealed class ResidualConnection : nn.Module<Tensor, Func<Tensor, Tensor>, Tensor>
{
    private readonly LayerNormalization? norm;
    private readonly TorchSharp.Modules.Dropout dropout;

    public ResidualConnection(int width, NormPlacement placement = NormPlacement.Post, double dropout = 0.0) : base(nameof(ResidualConnection))
    {
        Guard.Positive(width, nameof(width));
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        Placement = placement;
        if (placement != NormPlacement.None) norm = new LayerNormalization(width);
        this.dropout = nn.Dropout(dropout);
        RegisterComponents();
    }

    public NormPlacement Placement { get; }

    /// <summary>2·d with a LayerNorm, 0 without.</summary>
    public static long ParameterCount(long width, NormPlacement placement)
    {
        RebuiltRoutines.Enter("ResidualConnection.ParameterCount");
        return placement == NormPlacement.None ? 0 : 2 * width;
    }

    /// <remarks>No dispose scope of its own: the sub-layer may keep tensors it made (e.g. attention weights), so
    /// temporaries here belong to the caller's scope.</remarks>
    public override Tensor forward(Tensor x, Func<Tensor, Tensor> sublayer) => Placement switch
    {
        NormPlacement.Post => norm!.forward(x + dropout.forward(sublayer(x))),
        NormPlacement.Pre => x + dropout.forward(sublayer(norm!.forward(x))),
        _ => x + dropout.forward(sublayer(x)),
    };
}
