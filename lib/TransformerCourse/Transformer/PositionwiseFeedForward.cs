using TransformerCourse.Exercises;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>The non-linearity of a <see cref="PositionwiseFeedForward"/>.</summary>
public enum FeedForwardKind
{
    /// <summary>max(0, x W1 + b1) W2 + b2 (Vaswani et al., 2017). Parameters 2·d·d_ff + d_ff + d.</summary>
    Relu,
    /// <summary>GELU(x W1 + b1) W2 + b2, exact (erf) GELU (Hendrycks and Gimpel, 2016; BERT, GPT). Parameters 2·d·d_ff + d_ff + d.</summary>
    Gelu,
    /// <summary>(Swish(x W) ⊙ x V) W2 without biases (Shazeer, 2020; LLaMA). Parameters 3·d·d_ff; use d_ff ≈ ⅔ of the
    /// ReLU width to keep the parameter count.</summary>
    SwiGlu,
}

/// <summary>
/// The position-wise feed-forward network: the same two-layer MLP applied to every position independently,
/// widening d → d_ff, applying the non-linearity (<see cref="FeedForwardKind"/>), dropout on the hidden
/// activation while training, and projecting back d_ff → d. forward(x (…, d)) → (…, d).
/// Submodules: <c>linear1</c> (W1, or SwiGLU's gate W), <c>linear2</c> (W2), and for SwiGLU <c>linear_v</c> (V).
/// </summary>
public sealed class PositionwiseFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear1, linear2;
    private readonly Linear? linear_v;
    private readonly Dropout dropout;

    public PositionwiseFeedForward(int width, int hiddenWidth, FeedForwardKind kind = FeedForwardKind.Relu, double dropout = 0.0)
        : base(nameof(PositionwiseFeedForward))
    {
        RebuiltRoutines.Enter("PositionwiseFeedForward.new");
        Guard.Positive(width, nameof(width));
        Guard.Positive(hiddenWidth, nameof(hiddenWidth));
        if (dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        (Width, HiddenWidth, Kind) = (width, hiddenWidth, kind);
        bool bias = kind != FeedForwardKind.SwiGlu;
        linear1 = nn.Linear(width, hiddenWidth, hasBias: bias);
        if (kind == FeedForwardKind.SwiGlu) linear_v = nn.Linear(width, hiddenWidth, hasBias: false);
        linear2 = nn.Linear(hiddenWidth, width, hasBias: bias);
        this.dropout = nn.Dropout(dropout);
        RegisterComponents();
    }

    /// <summary>d_model.</summary>
    public int Width { get; }

    /// <summary>d_ff, the hidden width (2048 = 4·d_model in the paper).</summary>
    public int HiddenWidth { get; }

    public FeedForwardKind Kind { get; }

    /// <summary>ReLU/GELU: 2·d·d_ff + d_ff + d (two matrices, two biases). SwiGLU: 3·d·d_ff (three matrices, no biases).</summary>
    public static long ParameterCount(FeedForwardKind kind, long width, long hiddenWidth)
    {
        RebuiltRoutines.Enter("PositionwiseFeedForward.ParameterCount");
        return kind == FeedForwardKind.SwiGlu
            ? 3 * width * hiddenWidth
            : 2 * width * hiddenWidth + hiddenWidth + width;
    }

    public override Tensor forward(Tensor x)
    {
        Guard.Rank(x, 1, nameof(x), "..., width");
        if (x.shape[^1] != Width)
            throw new ArgumentException($"x has shape {Guard.Shape(x)} but its last dimension must be the width {Width}.", nameof(x));
        using var scope = NewDisposeScope();
        var hidden = Kind switch
        {
            FeedForwardKind.Relu => nn.functional.relu(linear1.forward(x)),
            FeedForwardKind.Gelu => nn.functional.gelu(linear1.forward(x)),
            _ => nn.functional.silu(linear1.forward(x)) * linear_v!.forward(x),
        };
        return linear2.forward(dropout.forward(hidden)).MoveToOuterDisposeScope();
    }
}
