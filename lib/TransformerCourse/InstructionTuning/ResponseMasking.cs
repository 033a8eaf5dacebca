using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.InstructionTuning;

/// <summary>
/// Supervised fine-tuning's loss: next-token cross-entropy on the response tokens only. The model reads the whole
/// sequence (prompt, then response); the label of every position whose next token still belongs to the prompt is
/// <see cref="IgnoreIndex"/>, so the prompt is context, never a target.
/// </summary>
public static class ResponseMasking
{
    /// <summary>The label the loss skips (PyTorch's default ignore_index, as in lesson 13's masked language modelling).</summary>
    public const long IgnoreIndex = -100;

    /// <summary>
    /// Labels for the inputs tokens[0 … n − 2] of one sequence of n tokens whose first <paramref name="promptLength"/>
    /// tokens are the prompt: label t is tokens[t + 1] when that token belongs to the response (t + 1 ≥ promptLength),
    /// otherwise <see cref="IgnoreIndex"/>.
    /// </summary>
    public static long[] Labels(long[] tokens, int promptLength)
    {
        RebuiltRoutines.Enter("ResponseMasking.Labels");
        if (tokens.Length < 2) throw new ArgumentException($"tokens has {tokens.Length} tokens; a sequence needs at least 2 to hold one prediction.", nameof(tokens));
        if (promptLength < 1 || promptLength >= tokens.Length)
            throw new ArgumentOutOfRangeException(nameof(promptLength), promptLength,
                $"promptLength must leave at least one response token: 1 ≤ promptLength < {tokens.Length} (the sequence length), but is {promptLength}.");
        var labels = new long[tokens.Length - 1];
        for (int t = 0; t < labels.Length; t++) labels[t] = t + 1 >= promptLength ? tokens[t + 1] : IgnoreIndex;
        return labels;
    }

    /// <summary>
    /// A batch (inputs, labels), both (B, <paramref name="contextLength"/>): each example's tokens without the last one,
    /// padded on the right with <paramref name="padToken"/>; labels from <see cref="Labels"/>, padded with IgnoreIndex.
    /// Padding sits after the sequence, so a causal model's earlier positions never see it.
    /// </summary>
    public static (Tensor Inputs, Tensor Labels) Batch(IReadOnlyList<(long[] Tokens, int PromptLength)> examples, int contextLength, long padToken,
        Device? device = null)
    {
        if (examples.Count == 0) throw new ArgumentException("examples must hold at least one sequence.", nameof(examples));
        var inputs = new long[examples.Count * contextLength];
        var labels = new long[examples.Count * contextLength];
        Array.Fill(inputs, padToken);
        Array.Fill(labels, IgnoreIndex);
        for (int b = 0; b < examples.Count; b++)
        {
            var (tokens, prompt) = examples[b];
            if (tokens.Length - 1 > contextLength)
                throw new ArgumentException($"example {b} has {tokens.Length} tokens; at most contextLength + 1 = {contextLength + 1} fit.", nameof(examples));
            var row = Labels(tokens, prompt);
            Array.Copy(tokens, 0, inputs, b * contextLength, tokens.Length - 1);
            Array.Copy(row, 0, labels, b * contextLength, row.Length);
        }
        var shape = new long[] { examples.Count, contextLength };
        var (x, y) = (tensor(inputs, shape), tensor(labels, shape));
        if (device is not null && device.type != DeviceType.CPU)
        {
            var (dx, dy) = (x.to(device), y.to(device));
            x.Dispose();
            y.Dispose();
            (x, y) = (dx, dy);
        }
        return (x, y);
    }

    /// <summary>
    /// Mean cross-entropy over the positions whose label is not <see cref="IgnoreIndex"/>, written out:
    /// −Σ_t m_t · ln softmax(logits_t)[label_t] / Σ_t m_t with m_t = 1 for a response label, 0 otherwise.
    /// Logits (B, T, V), labels (B, T). Equal to TorchSharp's cross_entropy with ignore_index = −100.
    /// </summary>
    public static Tensor Loss(Tensor logits, Tensor labels)
    {
        Guard.RankExactly(logits, 3, nameof(logits), "batch, time, vocab");
        Guard.RankExactly(labels, 2, nameof(labels), "batch, time");
        if (logits.shape[0] != labels.shape[0] || logits.shape[1] != labels.shape[1])
            throw new ArgumentException($"logits {Guard.Shape(logits)} and labels {Guard.Shape(labels)} must agree in batch and time.", nameof(labels));
        using var scope = NewDisposeScope();
        var keep = labels.ne(IgnoreIndex);
        long kept = keep.sum().item<long>();
        if (kept == 0) throw new ArgumentException($"labels {Guard.Shape(labels)} are all IgnoreIndex: there is no response token to score.", nameof(labels));
        // Any valid class id at ignored positions keeps gather in range; the mask removes those terms.
        var safe = labels.where(keep, zeros_like(labels));
        var nll = -logits.log_softmax(-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1);
        var masked = nll.where(keep, zeros_like(nll));
        return (masked.sum() / kept).MoveToOuterDisposeScope();
    }
}
