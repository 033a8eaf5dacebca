using TorchSharp;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>
/// How likely a policy finds a completion after its prompt. <c>tokens</c> (B, T) holds prompt and completion side by
/// side, every row with the same prompt length P; position t ≥ P is scored by the logits at t − 1, so the prompt is
/// never scored. ln π(y | x) = Σ_{t ≥ P} ln p(token_t | tokens_&lt;t).
/// </summary>
public static class SequenceLogProbs
{
    /// <summary>ln p of every completion token, shape (B, T − P), with the gradient of the model when it is on.</summary>
    public static Tensor PerToken(GptModel model, Tensor tokens, int promptLength)
    {
        using var scope = NewDisposeScope();
        var logSoftmax = CompletionLogSoftmax(model, tokens, promptLength);
        var targets = tokens[.., promptLength..].unsqueeze(-1);
        return logSoftmax.gather(-1, targets).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>Sequence log-probability of each completion, shape (B): the sum of <see cref="PerToken"/> over its positions.</summary>
    public static Tensor Of(GptModel model, Tensor tokens, int promptLength)
    {
        using var scope = NewDisposeScope();
        return PerToken(model, tokens, promptLength).sum(1).MoveToOuterDisposeScope();
    }

    /// <summary>The model's whole next-token distribution (log-softmax) at every completion position, shape (B, T − P, V).</summary>
    public static Tensor CompletionLogSoftmax(GptModel model, Tensor tokens, int promptLength)
    {
        ArgumentNullException.ThrowIfNull(model);
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, prompt + completion");
        long t = tokens.shape[1];
        if (promptLength < 1 || promptLength >= t)
            throw new ArgumentOutOfRangeException(nameof(promptLength), promptLength,
                $"promptLength must be at least 1 and below the sequence length {t} (tokens has shape {Guard.Shape(tokens)}).");
        if (t - 1 > model.Config.ContextLength)
            throw new ArgumentException($"tokens has {t} positions; the model reads at most {model.Config.ContextLength} + 1.", nameof(tokens));
        using var scope = NewDisposeScope();
        var logits = model.forward(tokens[.., ..(int)(t - 1)]);
        return logits[.., (promptLength - 1)..].log_softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Exact KL(π ‖ π_ref) between the two next-token distributions at each completion position, summed over the
    /// positions: Σ_t Σ_v π(v) (ln π(v) − ln π_ref(v)), shape (B). Both arguments come from <see cref="CompletionLogSoftmax"/>.
    /// </summary>
    public static Tensor TokenKl(Tensor logSoftmax, Tensor referenceLogSoftmax)
    {
        if (!logSoftmax.shape.SequenceEqual(referenceLogSoftmax.shape))
            throw new ArgumentException($"logSoftmax {Guard.Shape(logSoftmax)} and referenceLogSoftmax {Guard.Shape(referenceLogSoftmax)} must have one shape.", nameof(referenceLogSoftmax));
        Guard.RankExactly(logSoftmax, 3, nameof(logSoftmax), "batch, completion position, vocabulary");
        using var scope = NewDisposeScope();
        return (logSoftmax.exp() * (logSoftmax - referenceLogSoftmax)).sum(new long[] { 1, 2 }).MoveToOuterDisposeScope();
    }
}
