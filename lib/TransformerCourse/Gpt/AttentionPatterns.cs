using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>
/// Which position may attend to which in the three transformer families, as boolean (query, key) matrices
/// (true = may attend), drawn over one sequence of <c>n</c> tokens.
/// </summary>
public static class AttentionPatterns
{
    /// <summary>Encoder-only (BERT): every token sees every token.</summary>
    public static Tensor EncoderOnly(long n) { Guard.Positive(n, nameof(n)); return ones(n, n, dtype: ScalarType.Bool); }

    /// <summary>Decoder-only (GPT): token i sees tokens 0..i.</summary>
    public static Tensor DecoderOnly(long n) { Guard.Positive(n, nameof(n)); return ones(n, n, dtype: ScalarType.Bool).tril(); }

    /// <summary>
    /// Encoder–decoder (the 2017 Transformer, T5) over a source of <paramref name="source"/> tokens followed by a target of
    /// <paramref name="target"/> tokens: source tokens see the whole source (encoder self-attention); target token i sees
    /// the whole source (cross-attention) and target tokens 0..i (masked self-attention); no source token sees the target.
    /// </summary>
    public static Tensor EncoderDecoder(long source, long target)
    {
        Guard.Positive(source, nameof(source));
        Guard.Positive(target, nameof(target));
        var n = source + target;
        var pattern = zeros(n, n, dtype: ScalarType.Bool);
        pattern[TensorIndex.Slice(0, source), TensorIndex.Slice(0, source)] = ones(source, source, dtype: ScalarType.Bool);
        pattern[TensorIndex.Slice(source, n), TensorIndex.Slice(0, source)] = ones(target, source, dtype: ScalarType.Bool);
        pattern[TensorIndex.Slice(source, n), TensorIndex.Slice(source, n)] = ones(target, target, dtype: ScalarType.Bool).tril();
        return pattern;
    }
}
