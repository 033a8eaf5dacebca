using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>
/// The causal language-modelling objective written out: a model that reads tokens x_0 … x_{T−1} gives at position t
/// a distribution over the next token, which is scored against x_{t+1}. The last position has no target inside the
/// sequence, so T tokens give T − 1 predictions. Losses are in nats.
/// </summary>
public static class NextTokenLoss
{
    /// <summary>−ln p(x_{t+1} | x_{≤t}) for t = 0 … T − 2: logits (B, T, V) computed from tokens (B, T) → (B, T − 1).</summary>
    public static Tensor PerPosition(Tensor logits, Tensor tokens)
    {
        RebuiltRoutines.Enter("NextTokenLoss.PerPosition");
        Guard.RankExactly(logits, 3, nameof(logits), "batch, time, vocab");
        Guard.RankExactly(tokens, 2, nameof(tokens), "batch, time");
        if (logits.shape[0] != tokens.shape[0] || logits.shape[1] != tokens.shape[1])
            throw new ArgumentException($"logits {Guard.Shape(logits)} must have the batch and time sizes of tokens {Guard.Shape(tokens)}.", nameof(logits));
        if (tokens.shape[1] < 2) throw new ArgumentException($"tokens {Guard.Shape(tokens)} needs at least 2 positions to hold one prediction.", nameof(tokens));
        using var scope = NewDisposeScope();
        var logProbabilities = logits[.., ..^1].log_softmax(-1);
        return (-logProbabilities.gather(-1, tokens[.., 1..].unsqueeze(-1)).squeeze(-1)).MoveToOuterDisposeScope();
    }

    /// <summary>The mean of <see cref="PerPosition"/>: the number a GPT is trained to lower.</summary>
    public static Tensor Mean(Tensor logits, Tensor tokens)
    {
        RebuiltRoutines.Enter("NextTokenLoss.Mean");
        using var perPosition = PerPosition(logits, tokens);
        return perPosition.mean();
    }

    /// <summary>Perplexity e^{mean NLL} of a set of per-token losses (nats).</summary>
    public static double Perplexity(IReadOnlyCollection<double> negativeLogLikelihoods)
    {
        RebuiltRoutines.Enter("NextTokenLoss.Perplexity");
        if (negativeLogLikelihoods.Count == 0) throw new ArgumentException("negativeLogLikelihoods must hold at least one loss.", nameof(negativeLogLikelihoods));
        return Math.Exp(negativeLogLikelihoods.Average());
    }

    /// <summary>
    /// The geometric mean of 1/p over the probabilities the model gave the true next tokens, (∏ 1/p)^{1/N}, computed as
    /// a literal product (so it throws when the product leaves the range of a double: use short texts).
    /// </summary>
    public static double GeometricMeanInverseProbability(IReadOnlyCollection<double> probabilities)
    {
        RebuiltRoutines.Enter("NextTokenLoss.GeometricMeanInverseProbability");
        if (probabilities.Count == 0) throw new ArgumentException("probabilities must hold at least one value.", nameof(probabilities));
        if (probabilities.Any(p => !(p > 0 && p <= 1))) throw new ArgumentException("every probability must be in (0, 1].", nameof(probabilities));
        double product = 1;
        foreach (var p in probabilities) product *= 1 / p;
        if (!double.IsFinite(product))
            throw new ArgumentException($"the product of 1/p over {probabilities.Count} tokens overflows a double; use fewer tokens.", nameof(probabilities));
        return Math.Pow(product, 1.0 / probabilities.Count);
    }
}
