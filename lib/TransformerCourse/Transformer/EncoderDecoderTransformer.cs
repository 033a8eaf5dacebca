using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>Logits of one decoder pass and, per decoder layer, its attention weights (detached copies the caller owns).</summary>
public sealed record DecoderTrace(Tensor Logits, IReadOnlyList<Tensor> SelfAttention, IReadOnlyList<Tensor> CrossAttention) : IDisposable
{
    public void Dispose()
    {
        Logits.Dispose();
        foreach (var t in SelfAttention.Concat(CrossAttention)) t.Dispose();
    }
}

/// <summary>
/// The encoder–decoder Transformer of Vaswani et al. (2017). Token ids are embedded with one shared matrix,
/// scaled by √d_model, summed with sinusoidal positions and passed through dropout; the encoder stack turns the
/// source into "memory"; the decoder stack reads the target so far and the memory; the output layer reuses the
/// embedding matrix (when shared) to give logits over the vocabulary.
/// forward(source (B, L_s), target (B, L_t), sourceMask, targetMask) → logits (B, L_t, V).
/// </summary>
/// <remarks>
/// Conventions: Post-LN blocks have no final LayerNorm (as in the paper); Pre-LN adds one after the encoder and one
/// after the decoder. The output layer has no bias. Positional encodings have no parameters. Masks are boolean,
/// true = may attend: use <see cref="Seq2SeqMasks"/>. Initialisation: embedding N(0, 1/d_model) (so the scaled
/// embedding has unit variance), Xavier-uniform matrices, zero biases.
/// </remarks>
public sealed class EncoderDecoderTransformer : nn.Module<Tensor, Tensor, Tensor?, Tensor?, Tensor>
{
    private readonly Embedding embedding;
    private readonly Embedding? target_embedding;
    private readonly Linear? generator;
    private readonly ModuleList<EncoderBlock> encoder;
    private readonly ModuleList<DecoderBlock> decoder;
    private readonly LayerNormalization? encoder_norm, decoder_norm;
    private readonly Dropout dropout;

    public EncoderDecoderTransformer(TransformerConfig config) : base(nameof(EncoderDecoderTransformer))
    {
        RebuiltRoutines.Enter("EncoderDecoderTransformer.new");
        Config = config.Validated();
        embedding = nn.Embedding(config.VocabSize, config.Width);
        if (!config.ShareEmbeddings)
        {
            target_embedding = nn.Embedding(config.VocabSize, config.Width);
            generator = nn.Linear(config.Width, config.VocabSize, hasBias: false);
        }
        encoder = nn.ModuleList(Enumerable.Range(0, config.EncoderLayers).Select(_ => new EncoderBlock(config)).ToArray());
        decoder = nn.ModuleList(Enumerable.Range(0, config.DecoderLayers).Select(_ => new DecoderBlock(config)).ToArray());
        if (config.Norm == NormPlacement.Pre)
        {
            encoder_norm = new LayerNormalization(config.Width);
            decoder_norm = new LayerNormalization(config.Width);
        }
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
        // A buffer, not a parameter (nothing to learn). Persistent, because TorchSharp 0.107's .to(device) moves only
        // persistent buffers; so it is also saved in state_dict.
        register_buffer("positional_encoding", SinusoidalPositionalEncoding.Table(config.MaxLength, config.Width));
        Initialize();
    }

    public TransformerConfig Config { get; }

    /// <summary>Counted from the module: every parameter once (a shared matrix counts once).</summary>
    public long ParameterCount
    {
        get
        {
            RebuiltRoutines.Enter("EncoderDecoderTransformer.ParameterCount");
            return parameters().Sum(p => p.NumberOfElements);
        }
    }

    /// <summary>How many times <see cref="Encode"/> ran (exercise checks use it to see that a decoder encodes once).</summary>
    internal long EncodeCalls { get; private set; }

    /// <summary>
    /// The parameter count in closed form. With d = d_model, f = d_ff, V = vocabulary, N_e/N_d = layers:
    /// attention A = 4d² + 4d; FFN F = 2df + f + d (ReLU/GELU) or 3df (SwiGLU); LayerNorm 2d (none when
    /// Norm = None); encoder layer A + F + 2·2d; decoder layer 2A + F + 3·2d; embeddings V·d when shared, else 3·V·d;
    /// Pre-LN adds 2·2d for the final norms. Base model (V = 37,000): 63,082,496.
    /// </summary>
    public static long ClosedFormParameterCount(TransformerConfig config)
    {
        RebuiltRoutines.Enter("EncoderDecoderTransformer.ClosedFormParameterCount");
        var c = config.Validated();
        long d = c.Width;
        long embeddings = (c.ShareEmbeddings ? 1 : 3) * (long)c.VocabSize * d;
        long finalNorms = c.Norm == NormPlacement.Pre ? 2 * 2 * d : 0;
        return embeddings + c.EncoderLayers * EncoderBlock.ParameterCount(c) + c.DecoderLayers * DecoderBlock.ParameterCount(c) + finalNorms;
    }

    /// <summary>The encoder and decoder layers, e.g. to look at one layer's attention.</summary>
    public IReadOnlyList<EncoderBlock> EncoderLayers => [.. encoder];
    /// <inheritdoc cref="EncoderLayers"/>
    public IReadOnlyList<DecoderBlock> DecoderLayers => [.. decoder];

    public override Tensor forward(Tensor source, Tensor target, Tensor? sourceMask = null, Tensor? targetMask = null)
    {
        using var scope = NewDisposeScope();
        var memory = Encode(source, sourceMask);
        return Decode(target, memory, sourceMask, targetMask).MoveToOuterDisposeScope();
    }

    /// <summary>Source ids (B, L_s) → memory (B, L_s, d). sourceMask: usually <see cref="Seq2SeqMasks.Source"/>.</summary>
    public Tensor Encode(Tensor source, Tensor? sourceMask = null)
    {
        EncodeCalls++;
        using var scope = NewDisposeScope();
        var x = Embed(source, embedding, nameof(source));
        foreach (var block in encoder) x = block.forward(x, sourceMask);
        if (encoder_norm is not null) x = encoder_norm.forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Target ids so far (B, L_t) and memory (B, L_s, d) → logits (B, L_t, V) for the next token at each position.</summary>
    public Tensor Decode(Tensor target, Tensor memory, Tensor? sourceMask = null, Tensor? targetMask = null)
    {
        using var scope = NewDisposeScope();
        var x = DecoderInput(target, memory);
        foreach (var block in decoder) x = block.forward(x, memory, sourceMask, targetMask);
        return Logits(x).MoveToOuterDisposeScope();
    }

    /// <summary>Like <see cref="Decode"/>, and also returns every decoder layer's self- and cross-attention weights
    /// ((B, H, L_t, L_t) and (B, H, L_t, L_s)), detached, for heatmaps.</summary>
    public DecoderTrace DecodeWithAttention(Tensor target, Tensor memory, Tensor? sourceMask = null, Tensor? targetMask = null)
    {
        var selfWeights = new List<Tensor>();
        var crossWeights = new List<Tensor>();
        using var scope = NewDisposeScope();
        var x = DecoderInput(target, memory);
        foreach (var block in decoder)
        {
            var (output, self, cross) = block.ForwardWithAttention(x, memory, sourceMask, targetMask);
            selfWeights.Add(self.detach().DetachFromDisposeScope());
            crossWeights.Add(cross.detach().DetachFromDisposeScope());
            x = output;
        }
        return new DecoderTrace(Logits(x).MoveToOuterDisposeScope(), selfWeights, crossWeights);
    }

    Tensor DecoderInput(Tensor target, Tensor memory)
    {
        Guard.RankExactly(memory, 3, nameof(memory), "batch, L_s, width");
        if (memory.shape[0] != target.shape[0] || memory.shape[2] != Config.Width)
            throw new ArgumentException(
                $"memory has shape {Guard.Shape(memory)} but must be [{target.shape[0]}, L_s, {Config.Width}] for target {Guard.Shape(target)}.", nameof(memory));
        return Embed(target, target_embedding ?? embedding, nameof(target));
    }

    Tensor Logits(Tensor x)
    {
        if (decoder_norm is not null) x = decoder_norm.forward(x);
        return generator is not null ? generator.forward(x) : nn.functional.linear(x, embedding.weight!);
    }

    /// <summary>Token ids (B, L) → dropout(embedding · √d + PE[0..L)).</summary>
    Tensor Embed(Tensor tokens, Embedding table, string name)
    {
        Guard.RankExactly(tokens, 2, name, "batch, length");
        if (tokens.shape[1] > Config.MaxLength)
            throw new ArgumentException($"{name} has shape {Guard.Shape(tokens)}, longer than MaxLength {Config.MaxLength}.", name);
        var positions = get_buffer("positional_encoding")![..(int)tokens.shape[1]];
        return dropout.forward(table.forward(tokens) * Math.Sqrt(Config.Width) + positions);
    }

    void Initialize()
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.StartsWith("embedding.", StringComparison.Ordinal) || name.StartsWith("target_embedding.", StringComparison.Ordinal))
                nn.init.normal_(p, 0, 1 / Math.Sqrt(Config.Width));
            else if (p.dim() >= 2) nn.init.xavier_uniform_(p);
            else if (name.EndsWith("bias", StringComparison.Ordinal)) p.zero_();
        }
    }
}
