using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Models;

/// <summary>
/// An encoder-only tagger for depth experiments: token embedding plus sinusoidal positions, a stack of
/// <see cref="EncoderBlock"/>s (no dropout) with the norm placed as <see cref="NormPlacement"/> says, a final
/// <see cref="LayerNormalization"/> when the blocks are Pre-LN (as GPT-2 does), and a linear readout to the
/// vocabulary. forward(tokens (B, L)) → logits (B, L, V); <see cref="Encode"/> gives the vectors before the readout.
/// </summary>
public sealed class EncoderTagger : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly ModuleList<EncoderBlock> blocks;
    private readonly LayerNormalization? final_norm;
    private readonly Linear readout;

    public EncoderTagger(int vocabSize, int width, int heads, int feedForwardWidth, int layers, NormPlacement norm)
        : base(nameof(EncoderTagger))
    {
        Guard.Positive(vocabSize, nameof(vocabSize));
        Guard.Positive(layers, nameof(layers));
        if (width % 2 != 0) throw new ArgumentException($"width must be even for sinusoidal positions but is {width}.", nameof(width));
        (VocabSize, Width, Norm) = (vocabSize, width, norm);
        tokens = nn.Embedding(vocabSize, width);
        blocks = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => new EncoderBlock(width, heads, feedForwardWidth, 0.0, norm)).ToArray());
        if (norm == NormPlacement.Pre) final_norm = new LayerNormalization(width);
        readout = nn.Linear(width, vocabSize);
        RegisterComponents();
    }

    public int VocabSize { get; }
    public int Width { get; }
    public NormPlacement Norm { get; }

    /// <summary>The encoder blocks, first to last.</summary>
    public IReadOnlyList<EncoderBlock> Blocks => blocks.ToList();

    /// <summary>The vectors the readout sees, (B, L, d).</summary>
    public Tensor Encode(Tensor source)
    {
        Guard.RankExactly(source, 2, nameof(source), "batch, length");
        using var scope = NewDisposeScope();
        var x = tokens.forward(source) + SinusoidalPositionalEncoding.Table(source.shape[1], Width, source.device);
        foreach (var block in blocks) x = block.forward(x);
        if (final_norm is not null) x = final_norm.forward(x);
        return x.MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor source)
    {
        using var scope = NewDisposeScope();
        return readout.forward(Encode(source)).MoveToOuterDisposeScope();
    }
}
