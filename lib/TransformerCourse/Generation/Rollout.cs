using TorchSharp;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Generation;

/// <summary>
/// A prompt, the tokens that followed it, and their log-likelihood under the model itself
/// (Σ ln p_model(token | everything before it), with the model's own distribution: τ = 1, nothing truncated).
/// </summary>
public sealed record Continuation(long[] Prompt, long[] Tokens, double LogLikelihood)
{
    /// <summary>Log-likelihood per generated token (nats).</summary>
    public double MeanLogLikelihood => Tokens.Length == 0 ? 0 : LogLikelihood / Tokens.Length;
}

/// <summary>
/// Runs a <see cref="GptModel"/> forward from several prompts at once (one batch row each), choosing each next token
/// with a rule and recording how likely the model found the chosen token. The model sees at most its context length
/// of the latest tokens (the window slides); every path through here — sampling, scoring real text, drawing from a
/// fixed distribution — uses the same windows, so their log-likelihoods compare fairly.
/// </summary>
public static class Rollout
{
    /// <summary>
    /// Appends <paramref name="count"/> tokens to every prompt. <paramref name="choose"/> gets the step, the
    /// (B, V) float32 logits on the model's device and each row's tokens so far (prompt included), and returns one
    /// token per row.
    /// </summary>
    public static Continuation[] Run(GptModel model, IReadOnlyList<long[]> prompts, int count,
        Func<int, Tensor, IReadOnlyList<long[]>, long[]> choose)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (prompts.Count == 0) throw new ArgumentException("prompts must hold at least one prompt.", nameof(prompts));
        int length = prompts[0].Length;
        if (length == 0 || prompts.Any(p => p.Length != length))
            throw new ArgumentException($"prompts must be non-empty and of one length (lengths: {string.Join(", ", prompts.Select(p => p.Length).Distinct())}).", nameof(prompts));
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be non-negative.");
        var device = model.parameters().First().device;
        int context = model.Config.ContextLength, b = prompts.Count;
        var tokens = prompts.Select(p => new List<long>(p)).ToArray();
        var logLikelihood = new double[b];
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            for (int step = 0; step < count; step++)
            {
                using var scope = NewDisposeScope();
                int start = Math.Max(0, tokens[0].Count - context);
                var window = tensor(tokens.SelectMany(t => t.Skip(start)).ToArray(), [b, tokens[0].Count - start], device: device);
                var logits = model.forward(window)[.., -1];
                var histories = tokens.Select(t => t.ToArray()).ToArray();
                var next = choose(step, logits, histories);
                if (next is null || next.Length != b)
                    throw new InvalidOperationException($"the choice rule returned {next?.Length ?? 0} tokens for {b} rows.");
                var logProbs = logits.to_type(ScalarType.Float64).log_softmax(-1)
                    .gather(-1, tensor(next, device: device).unsqueeze(1)).cpu().data<double>().ToArray();
                for (int r = 0; r < b; r++)
                {
                    logLikelihood[r] += logProbs[r];
                    tokens[r].Add(next[r]);
                }
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return tokens.Select((t, r) => new Continuation(prompts[r], t.Skip(length).ToArray(), logLikelihood[r])).ToArray();
    }

    /// <summary>Samples a continuation of every prompt with <paramref name="settings"/> (the repetition penalty sees prompt and continuation).</summary>
    public static Continuation[] Sample(GptModel model, IReadOnlyList<long[]> prompts, int count, DecodingSettings settings, Generator generator)
    {
        settings.Validated();
        ArgumentNullException.ThrowIfNull(generator);
        return Run(model, prompts, count, (_, logits, histories) => Decoding.Sample(settings.Distribution(logits, histories), generator));
    }

    /// <summary>The log-likelihood of given continuations (e.g. real text) along the same windows as <see cref="Sample"/>.</summary>
    public static Continuation[] Score(GptModel model, IReadOnlyList<long[]> prompts, IReadOnlyList<long[]> continuations)
    {
        if (continuations.Count != prompts.Count)
            throw new ArgumentException($"{continuations.Count} continuations for {prompts.Count} prompts.", nameof(continuations));
        int count = continuations.Count == 0 ? 0 : continuations[0].Length;
        if (continuations.Any(c => c.Length != count))
            throw new ArgumentException("continuations must all have the same length.", nameof(continuations));
        return Run(model, prompts, count, (step, _, _) => continuations.Select(c => c[step]).ToArray());
    }

    /// <summary>Continuations drawn from a fixed distribution (V) that ignores the context, e.g. the unigram frequencies.</summary>
    public static Continuation[] FromFixedDistribution(GptModel model, IReadOnlyList<long[]> prompts, int count, Tensor distribution, Generator generator)
    {
        Guard.RankExactly(distribution, 1, nameof(distribution), "vocabulary");
        if (distribution.shape[0] != model.Config.VocabSize)
            throw new ArgumentException($"distribution has shape {Guard.Shape(distribution)} but the model's vocabulary is {model.Config.VocabSize}.", nameof(distribution));
        var rows = distribution.to_type(ScalarType.Float64).to(model.parameters().First().device).unsqueeze(0).expand(prompts.Count, -1).contiguous();
        return Run(model, prompts, count, (_, _, _) => Decoding.Sample(rows, generator));
    }

    /// <summary>
    /// The mean entropy (nats per token) of the model's own distribution (τ = 1, nothing cut off) at each step of
    /// each continuation, along the same windows as <see cref="Sample"/>. For text sampled at τ = 1 the expected
    /// log-likelihood per token is minus this entropy.
    /// </summary>
    public static double[] MeanEntropy(GptModel model, IReadOnlyList<Continuation> continuations)
    {
        if (continuations.Count == 0) throw new ArgumentException("continuations must hold at least one continuation.", nameof(continuations));
        int count = continuations[0].Tokens.Length;
        if (count == 0 || continuations.Any(c => c.Tokens.Length != count))
            throw new ArgumentException("continuations must all have the same, non-zero number of tokens.", nameof(continuations));
        var total = new double[continuations.Count];
        Run(model, continuations.Select(c => c.Prompt).ToArray(), count, (step, logits, _) =>
        {
            var logP = logits.to_type(ScalarType.Float64).log_softmax(-1);
            var h = (-(logP.exp() * logP).sum(-1)).cpu().data<double>().ToArray();
            for (int r = 0; r < h.Length; r++) total[r] += h[r];
            return continuations.Select(c => c.Tokens[step]).ToArray();
        });
        return total.Select(t => t / count).ToArray();
    }
}
