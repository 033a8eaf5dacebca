using TorchSharp;
using TransformerCourse.Attention;
using TransformerCourse.Data;
using TransformerCourse.Exercises;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Generation;

/// <summary>
/// One decoded output. <see cref="Tokens"/> are the generated ids without &lt;bos&gt; and without the final
/// &lt;eos&gt;; <see cref="Finished"/> says whether &lt;eos&gt; was produced. <see cref="LogProb"/> sums the
/// log-probabilities of every generated token (&lt;eos&gt; included); <see cref="Score"/> is the length-normalised
/// LogProb / length^α with length = generated tokens including &lt;eos&gt;.
/// </summary>
public sealed record Hypothesis(long[] Tokens, bool Finished, double LogProb, double Score)
{
    public int Length => Tokens.Length + (Finished ? 1 : 0);

    internal static Hypothesis Make(long[] tokens, bool finished, double logProb, double alpha)
    {
        int length = Math.Max(1, tokens.Length + (finished ? 1 : 0));
        return new Hypothesis(tokens, finished, logProb, logProb / Math.Pow(length, alpha));
    }
}

/// <summary>
/// Greedy decoding and beam search for an <see cref="EncoderDecoderTransformer"/>, and model-free versions of
/// both that take any next-token distribution (for hand-built examples). The model is switched to eval mode
/// for the call and back afterwards; nothing is kept between steps (each step re-runs the decoder on the prefix).
/// </summary>
public static class Seq2SeqDecoding
{
    /// <summary>
    /// Greedy decoding of a batch: at every step take the most likely next token, until &lt;eos&gt; or
    /// <paramref name="maxLength"/> generated tokens.
    /// </summary>
    /// <param name="source">(B, L_s) padded source ids.</param>
    /// <param name="lengthPenalty">α in Score = LogProb / length^α (1 = mean log-prob per token; 0 = plain sum).</param>
    public static Hypothesis[] Greedy(EncoderDecoderTransformer model, Tensor source, SpecialTokens special, int maxLength, double lengthPenalty = 1.0)
    {
        RebuiltRoutines.Enter("Seq2SeqDecoding.Greedy");
        Guard.RankExactly(source, 2, nameof(source), "batch, L_s");
        CheckLength(model, maxLength);
        return InEval(model, () =>
        {
            using var scope = NewDisposeScope();
            int b = (int)source.shape[0];
            var sourceMask = Seq2SeqMasks.Source(source, special.Pad);
            var memory = model.Encode(source, sourceMask);
            var tokens = Enumerable.Range(0, b).Select(_ => new List<long>()).ToArray();
            var logProbs = new double[b];
            var finished = new bool[b];
            var prefix = full(b, 1, special.Bos, dtype: ScalarType.Int64, device: source.device);
            for (int t = 0; t < maxLength && !finished.All(f => f); t++)
            {
                using var step = NewDisposeScope();
                var last = model.Decode(prefix, memory, sourceMask, Masks.Causal(t + 1, source.device))[.., -1].log_softmax(-1);
                var (best, bestIndex) = last.max(-1);
                var values = best.to(ScalarType.Float64).cpu().data<double>().ToArray();
                var ids = bestIndex.cpu().data<long>().ToArray();
                for (int i = 0; i < b; i++)
                {
                    if (finished[i]) continue;
                    logProbs[i] += values[i];
                    if (ids[i] == special.Eos) finished[i] = true;
                    else tokens[i].Add(ids[i]);
                }
                prefix = cat([prefix, bestIndex.unsqueeze(1)], 1).MoveToOuterDisposeScope();
            }
            return tokens.Select((ts, i) => Hypothesis.Make([.. ts], finished[i], logProbs[i], lengthPenalty)).ToArray();
        });
    }

    /// <summary>
    /// Beam search for one source: keep the <paramref name="beamWidth"/> prefixes with the highest summed
    /// log-probability; a prefix that emits &lt;eos&gt; among the top <paramref name="beamWidth"/> candidates is
    /// finished and set aside. Stop when at least <paramref name="beamWidth"/> are finished and no live prefix could
    /// still beat the best finished <see cref="Hypothesis.Score"/> (its log-probability can only fall, and its length
    /// can grow to <paramref name="maxLength"/> + 1), or at <paramref name="maxLength"/> (where, if fewer than
    /// <paramref name="beamWidth"/> have finished, the unfinished ones compete too). Return the best by
    /// length-normalised <see cref="Hypothesis.Score"/>.
    /// With <paramref name="lengthPenalty"/> 0, width 1 is exactly greedy decoding. With a length penalty above 0,
    /// width 1 follows greedy's path until greedy emits &lt;eos&gt;; it then sets that output aside, may go on with
    /// the runner-up, and can return a longer output with a better normalised score.
    /// </summary>
    /// <param name="source">(L_s) or (1, L_s) source ids.</param>
    /// <param name="lengthPenalty">α in Score = LogProb / length^α (1 = mean log-prob per token; 0 = plain sum).</param>
    public static Hypothesis Beam(EncoderDecoderTransformer model, Tensor source, SpecialTokens special, int beamWidth, int maxLength,
        double lengthPenalty = 1.0)
    {
        RebuiltRoutines.Enter("Seq2SeqDecoding.Beam");
        if (source.dim() == 1) source = source.unsqueeze(0);
        Guard.RankExactly(source, 2, nameof(source), "1, L_s");
        if (source.shape[0] != 1) throw new ArgumentException($"source has shape {Guard.Shape(source)}; beam search takes one sequence, (1, L_s).", nameof(source));
        CheckLength(model, maxLength);
        return InEval(model, () =>
        {
            using var scope = NewDisposeScope();
            var sourceMask = Seq2SeqMasks.Source(source, special.Pad);
            var memory = model.Encode(source, sourceMask);
            return Beam(prefixes =>
            {
                using var step = NewDisposeScope();
                int n = prefixes.Count, t = prefixes[0].Length;
                var ids = tensor(prefixes.SelectMany(p => p).ToArray(), [n, t], device: source.device);
                var logits = model.Decode(ids, memory.expand(n, -1, -1), sourceMask.expand(n, -1, -1), Masks.Causal(t, source.device));
                var rows = logits[.., -1].log_softmax(-1).to(ScalarType.Float64).cpu();
                return Enumerable.Range(0, n).Select(i => rows[i].data<double>().ToArray()).ToArray();
            }, special.Bos, special.Eos, beamWidth, maxLength, lengthPenalty);
        });
    }

    /// <summary>Greedy decoding with any next-token distribution: prefixes (each starting with &lt;bos&gt;) → log-probabilities over the vocabulary.</summary>
    public static Hypothesis Greedy(Func<IReadOnlyList<long[]>, double[][]> nextLogProbs, long bos, long eos, int maxLength, double lengthPenalty = 1.0)
    {
        RebuiltRoutines.Enter("Seq2SeqDecoding.Greedy");
        Guard.Positive(maxLength, nameof(maxLength));
        var tokens = new List<long>();
        double logProb = 0;
        for (int t = 0; t < maxLength; t++)
        {
            var row = nextLogProbs([[bos, .. tokens]])[0];
            long best = Array.IndexOf(row, row.Max());
            logProb += row[best];
            if (best == eos) return Hypothesis.Make([.. tokens], true, logProb, lengthPenalty);
            tokens.Add(best);
        }
        return Hypothesis.Make([.. tokens], false, logProb, lengthPenalty);
    }

    /// <summary>Beam search with any next-token distribution (see the model overload for the rules).</summary>
    public static Hypothesis Beam(Func<IReadOnlyList<long[]>, double[][]> nextLogProbs, long bos, long eos, int beamWidth, int maxLength,
        double lengthPenalty = 1.0)
    {
        RebuiltRoutines.Enter("Seq2SeqDecoding.Beam");
        Guard.Positive(beamWidth, nameof(beamWidth));
        Guard.Positive(maxLength, nameof(maxLength));
        var alive = new List<(long[] Tokens, double LogProb)> { ([], 0.0) };
        var finished = new List<Hypothesis>();
        // Stopping when beamWidth hypotheses have finished is not enough: short, unlikely endings can fill that
        // list before the right, longer answer ends. Keep going until no live prefix could still beat the best
        // finished one (its log-prob can only fall, its length can grow to maxLength + 1 with <eos>).
        double BestPossible((long[] Tokens, double LogProb) a) =>
            lengthPenalty > 0 ? a.LogProb / Math.Pow(maxLength + 1, lengthPenalty) : a.LogProb;
        for (int t = 0; t < maxLength && alive.Count > 0; t++)
        {
            if (finished.Count >= beamWidth && finished.Max(h => h.Score) >= alive.Max(BestPossible)) break;
            var rows = nextLogProbs(alive.Select(a => (long[])[bos, .. a.Tokens]).ToArray());
            // Every (prefix, next token) pair, best first; ties go to the earlier prefix, then the smaller id.
            var candidates = alive
                .SelectMany((a, i) => rows[i].Select((lp, v) => (Prefix: i, Token: (long)v, LogProb: a.LogProb + lp)))
                .Where(c => !double.IsNegativeInfinity(c.LogProb))
                .OrderByDescending(c => c.LogProb).ThenBy(c => c.Prefix).ThenBy(c => c.Token)
                .Take(2 * beamWidth)
                .ToArray();
            var next = new List<(long[] Tokens, double LogProb)>();
            for (int r = 0; r < candidates.Length && next.Count < beamWidth; r++)
            {
                var c = candidates[r];
                if (c.Token == eos)
                {
                    if (r < beamWidth) finished.Add(Hypothesis.Make(alive[c.Prefix].Tokens, true, c.LogProb, lengthPenalty));
                }
                else next.Add(([.. alive[c.Prefix].Tokens, c.Token], c.LogProb));
            }
            alive = next;
        }
        var pool = finished.Count >= beamWidth
            ? finished
            : finished.Concat(alive.Select(a => Hypothesis.Make(a.Tokens, false, a.LogProb, lengthPenalty))).ToList();
        return pool.OrderByDescending(h => h.Score).First();
    }

    static void CheckLength(EncoderDecoderTransformer model, int maxLength)
    {
        Guard.Positive(maxLength, nameof(maxLength));
        if (maxLength >= model.Config.MaxLength)
            throw new ArgumentException(
                $"maxLength ({maxLength}) plus <bos> must fit the model's MaxLength ({model.Config.MaxLength}).", nameof(maxLength));
    }

    static T InEval<T>(EncoderDecoderTransformer model, Func<T> run)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            return run();
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}
