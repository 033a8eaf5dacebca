using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.FineTuning;

/// <summary>An encoder to fine-tune: the module that owns its weights and how it turns (ids (B, T), attention mask
/// (B, T), true = real token) into hidden states (B, T, Width).</summary>
public sealed record EncoderHandle(nn.Module Module, Func<Tensor, Tensor, Tensor> HiddenStates, int Width);

/// <summary>
/// Sequence classification (Devlin et al., 2019, section 4.1): the final hidden vector of [CLS], the first position,
/// goes through dropout and one linear layer to K class scores. forward(ids (B, T), mask (B, T)) → logits (B, K).
/// Fine-tuning trains the encoder and the new layer together.
/// </summary>
public sealed class ClsClassifier : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module encoder;
    private readonly Dropout dropout;
    private readonly Linear classifier;
    private readonly Func<Tensor, Tensor, Tensor> hiddenStates;

    public ClsClassifier(EncoderHandle encoder, int classes, double dropout = 0.1) : base(nameof(ClsClassifier))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (classes < 2) throw new ArgumentException($"classes must be at least 2 but is {classes}.", nameof(classes));
        this.encoder = encoder.Module;
        hiddenStates = encoder.HiddenStates;
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(encoder.Width, classes);
        Classes = classes;
        RegisterComponents();
    }

    public int Classes { get; }

    /// <summary>The new layer (W, b), the only weights not taken from the encoder.</summary>
    public Linear Head => classifier;

    /// <summary>The [CLS] vector of each sequence: hidden (B, T, D) → (B, D).</summary>
    public static Tensor ClsVector(Tensor hidden)
    {
        Guard.RankExactly(hidden, 3, nameof(hidden), "(batch, positions, width)");
        return hidden.select(1, 0);
    }

    public override Tensor forward(Tensor ids, Tensor mask) =>
        classifier.forward(dropout.forward(ClsVector(hiddenStates(ids, mask))));
}

/// <summary>
/// Token classification (Devlin et al., 2019, section 5.3): every position's final hidden vector goes through dropout
/// and one linear layer, the same for all positions. forward(ids (B, T), mask (B, T)) → logits (B, T, K); positions
/// without a label are skipped by the loss (<see cref="SubwordAlignment.IgnoreIndex"/>).
/// </summary>
public sealed class TokenClassifier : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module encoder;
    private readonly Dropout dropout;
    private readonly Linear classifier;
    private readonly Func<Tensor, Tensor, Tensor> hiddenStates;

    public TokenClassifier(EncoderHandle encoder, int classes, double dropout = 0.1) : base(nameof(TokenClassifier))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (classes < 2) throw new ArgumentException($"classes must be at least 2 but is {classes}.", nameof(classes));
        this.encoder = encoder.Module;
        hiddenStates = encoder.HiddenStates;
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(encoder.Width, classes);
        Classes = classes;
        RegisterComponents();
    }

    public int Classes { get; }

    public override Tensor forward(Tensor ids, Tensor mask) => classifier.forward(dropout.forward(hiddenStates(ids, mask)));
}
