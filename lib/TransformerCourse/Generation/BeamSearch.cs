using TorchSharp;
using TransformerCourse.Exercises;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Generation;

/// <summary>
/// Beam search for a fixed number of new tokens: keep the <c>width</c> continuations with the highest summed
/// log-probability, extend each by every token, keep the best <c>width</c> again. There is no end token, so every
/// hypothesis has the same length and ranking by the sum or by the per-token mean (length normalisation) is the same:
/// we rank by the plain sum. Ties go to the earlier beam, then the smaller token id. Width 1 is greedy decoding.
/// </summary>
public static class BeamSearch
{
    /// <summary>
    /// Beam search with any next-token distribution: <paramref name="nextLogProbs"/> maps the current continuations
    /// (each without the prompt) to log-probabilities over the vocabulary, one row per continuation.
    /// Returns the best continuation and its summed log-probability.
    /// </summary>
    public static (long[] Tokens, double LogProb) Search(Func<IReadOnlyList<long[]>, double[][]> nextLogProbs, int count, int width)
    {
        RebuiltRoutines.Enter("BeamSearch.Search");
        Guard.Positive(width, nameof(width));
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be non-negative.");
        var beams = new List<(long[] Tokens, double LogProb)> { ([], 0.0) };
        for (int t = 0; t < count; t++)
        {
            var rows = nextLogProbs(beams.Select(b => b.Tokens).ToArray());
            if (rows.Length != beams.Count)
                throw new InvalidOperationException($"nextLogProbs returned {rows.Length} rows for {beams.Count} beams.");
            beams = beams
                .SelectMany((b, i) => rows[i].Select((lp, v) => (Beam: i, Token: (long)v, LogProb: b.LogProb + lp)))
                .Where(c => !double.IsNegativeInfinity(c.LogProb))
                .OrderByDescending(c => c.LogProb).ThenBy(c => c.Beam).ThenBy(c => c.Token)
                .Take(width)
                .Select(c => ((long[])[.. beams[c.Beam].Tokens, c.Token], c.LogProb))
                .ToList();
            if (beams.Count == 0) throw new InvalidOperationException("every continuation has probability zero.");
        }
        return beams[0];
    }

    /// <summary>
    /// Beam search over a <see cref="GptModel"/> after <paramref name="prompt"/>: the model sees at most its context
    /// length of the latest tokens, as <see cref="Rollout"/> does, and the log-likelihood is under the model's own
    /// distribution, so it compares directly with a sampled or greedy <see cref="Continuation"/>.
    /// </summary>
    public static Continuation Search(GptModel model, long[] prompt, int count, int width)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (prompt.Length == 0) throw new ArgumentException("prompt must contain at least one token.", nameof(prompt));
        var device = model.parameters().First().device;
        int context = model.Config.ContextLength;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var (tokens, logProb) = Search(beams =>
            {
                using var scope = NewDisposeScope();
                var full = beams.Select(b => prompt.Concat(b).ToArray()).ToArray();
                int length = full[0].Length, start = Math.Max(0, length - context);
                var window = tensor(full.SelectMany(f => f.Skip(start)).ToArray(), [full.Length, length - start], device: device);
                var rows = model.forward(window)[.., -1].to_type(ScalarType.Float64).log_softmax(-1).cpu();
                return Enumerable.Range(0, full.Length).Select(i => rows[i].data<double>().ToArray()).ToArray();
            }, count, width);
            return new Continuation(prompt, tokens, logProb);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}
