using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Data;

/// <summary>
/// A padded batch for teacher forcing: Source (B, L_s); TargetInput (B, L_t) = &lt;bos&gt; y₁ … y_n; TargetOutput
/// (B, L_t) = y₁ … y_n &lt;eos&gt;, the next token at each position. Padding uses the pad id everywhere.
/// </summary>
public sealed record Seq2SeqBatch(Tensor Source, Tensor TargetInput, Tensor TargetOutput) : IDisposable
{
    /// <summary>Pads token sequences into a batch on <paramref name="device"/>.</summary>
    public static Seq2SeqBatch From(IReadOnlyList<long[]> sources, IReadOnlyList<long[]> targets, SpecialTokens special, Device? device = null)
    {
        if (sources.Count == 0 || sources.Count != targets.Count)
            throw new ArgumentException($"need as many targets ({targets.Count}) as sources ({sources.Count}), at least one.", nameof(targets));
        int b = sources.Count, ls = sources.Max(s => s.Length), lt = targets.Max(t => t.Length) + 1;
        if (ls == 0) throw new ArgumentException("every source is empty.", nameof(sources));
        var src = Enumerable.Repeat(special.Pad, b * ls).ToArray();
        var input = Enumerable.Repeat(special.Pad, b * lt).ToArray();
        var output = Enumerable.Repeat(special.Pad, b * lt).ToArray();
        for (int i = 0; i < b; i++)
        {
            sources[i].CopyTo(src, i * ls);
            input[i * lt] = special.Bos;
            targets[i].CopyTo(input, i * lt + 1);
            targets[i].CopyTo(output, i * lt);
            output[i * lt + targets[i].Length] = special.Eos;
        }
        return new Seq2SeqBatch(
            tensor(src, [b, ls], device: device), tensor(input, [b, lt], device: device), tensor(output, [b, lt], device: device));
    }

    public void Dispose()
    {
        Source.Dispose();
        TargetInput.Dispose();
        TargetOutput.Dispose();
    }
}
