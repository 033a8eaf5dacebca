using TorchSharp;
using TransformerCourse.Generation;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 17 (Decoding Strategies).</summary>
public static class Lesson17
{
    /// <summary>
    /// Exercise 1: nucleus (top-p) sampling. <c>yours(logits, p)</c> gets float64 logits (V) and returns the
    /// distribution (V) that top-p samples from: the most likely tokens, in probability order, until their mass
    /// reaches p — the token that crosses p included — renormalised. The probes avoid ties at the boundary.
    /// </summary>
    public static Verdict TopP(Func<Tensor, double, Tensor> yours) => Check("your TopP",
        "go back to the section on top-p: in which order are the tokens taken, which token is the last one kept, and what must the kept probabilities add up to?",
        () =>
        {
            var random = new Random(17);
            var cases = new List<(double[] Probs, double P)>
            {
                ([0.15, 0.5, 0.05, 0.3], 0.6),     // sorted 0.5, 0.3 (crosses 0.6), 0.15, 0.05; ids shuffled
                ([0.15, 0.5, 0.05, 0.3], 0.9),
                ([0.15, 0.5, 0.05, 0.3], 0.3),     // the top token alone crosses p
                ([0.1, 0.2, 0.3, 0.4], 0.65),      // ids in increasing order of probability
                ([0.15, 0.5, 0.05, 0.3], 1.0),     // everything
            };
            for (int i = 0; i < 8; i++)
            {
                var z = Enumerable.Range(0, random.Next(5, 12)).Select(_ => random.NextDouble() * 6 - 3).ToArray();
                var e = z.Select(Math.Exp).ToArray();
                cases.Add((e.Select(x => x / e.Sum()).ToArray(), Math.Round(random.NextDouble() * 0.8 + 0.1, 2)));
            }
            foreach (var (probs, p) in cases)
            {
                var logits = tensor(probs.Select(x => Math.Log(x)).ToArray(), dtype: ScalarType.Float64);
                var before = logits.clone();
                string call = $"TopP(logits for the probabilities [{string.Join(", ", probs.Select(x => x.ToString("0.###")))}], p = {p})";
                var answer = Forbidding(["Decoding.TopP", "Decoding.TopK"], () => yours(logits, p));
                Expect(answer is not null, $"{call} returns null.");
                Expect(Same(logits, before, 0), $"{call} changed the logits it was given; compute the distribution in a new tensor.");
                Expect(answer!.shape.SequenceEqual(new long[] { probs.Length }), $"{call} has shape {Guard.Shape(answer)}; expected [{probs.Length}], one probability per token.");
                var got = answer.detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
                var want = Reference(probs, p);
                if (got.Zip(want).All(x => Math.Abs(x.First - x.Second) < 1e-6)) continue;
                string shown = $"{call} gives [{string.Join(", ", got.Select(x => x.ToString("0.###")))}] instead of [{string.Join(", ", want.Select(x => x.ToString("0.###")))}]";
                Expect(got.All(double.IsFinite) && got.All(x => x >= -1e-9), $"{shown}: these are not probabilities (negative or not finite): apply the softmax before cutting.");
                Expect(!got.Zip(probs).All(x => Math.Abs(x.First - x.Second) < 1e-6) || p >= 1, $"{shown}: every token is still there, nothing was cut off.");
                bool sameSet = got.Zip(want).All(x => (x.First > 1e-9) == (x.Second > 0));
                Expect(!(sameSet && Math.Abs(got.Sum() - 1) > 1e-6),
                    $"{shown}: the right tokens are kept but they sum to {got.Sum():0.###}; the kept probabilities must be renormalised to sum to 1.");
                var dropped = Reference(probs, p, keepCrossing: false);
                Expect(!Matches(got, dropped), $"{shown}: the token whose probability carries the total past p is dropped; it must be kept (otherwise the kept mass is below p).");
                Expect(!Matches(got, Reference(probs, p, sorted: false)) && !Matches(got, Reference(probs, p, sorted: false, keepCrossing: false)),
                    $"{shown}: the tokens were taken in id order, not from the most likely down: sort by probability first.");
                Expect(!Matches(got, Reference(probs, p, extra: 1)), $"{shown}: one token too many is kept; stop right after the token that crosses p.");
                var sortedWant = want.OrderByDescending(x => x).ToArray();
                Expect(!Matches(got, sortedWant) || Matches(sortedWant, want),
                    $"{shown}: the kept probabilities come back in sorted order (largest first), not at their tokens' ids; put each one back at the id it came from.");
                Expect(sameSet, $"{shown}: a different set of tokens is kept.");
                Expect(false, $"{shown}: the right tokens are kept, but not in the right proportions; top-p only cuts, it must not change the ratios between the kept tokens.");
            }
        });

    /// <summary>
    /// Exercise 2: the repetition penalty on a batch. <c>yours(logits, histories, penalty)</c> gets float64 logits
    /// (B, V) and one history per row, and returns new logits (B, V) in which every token that occurs in a row's own
    /// history is penalised once in that row: a positive logit divided by the penalty, a negative one multiplied by it
    /// (Hugging Face's variant of CTRL's penalty).
    /// </summary>
    public static Verdict RepetitionPenalty(Func<Tensor, long[][], double, Tensor> yours) => Check("your RepetitionPenalty",
        "go back to the section on the repetition penalty: whose history does each row look at, what must happen to a seen token's logit, and what do dividing and multiplying do to a negative number?",
        () =>
        {
            var cases = new List<(double[][] Logits, long[][] Histories, double Penalty)>
            {
                ([[2.0, -1.0, 0.5, 3.0, -2.0], [2.0, -1.0, 0.0, 3.0, -2.0], [1.5, 0.5, -0.5, -3.0, 2.0]], [[0, 1], [2, 3, 3], [1, 1, 1, 4]], 1.5),
                ([[2.0, -1.0, 0.5, 3.0, -2.0], [2.0, -1.0, 0.5, 3.0, -2.0]], [[0, 1], [3, 4]], 2.0),   // same logits, different histories
                ([[1.0, 1.0, -1.0]], [[]], 2.0),                                                         // empty history
            };
            var random = new Random(17);
            for (int i = 0; i < 5; i++)
            {
                int v = random.Next(4, 10), b = random.Next(2, 5);
                cases.Add((Enumerable.Range(0, b).Select(_ => Enumerable.Range(0, v).Select(_ => Math.Round(random.NextDouble() * 6 - 3, 2)).ToArray()).ToArray(),
                    Enumerable.Range(0, b).Select(_ => Enumerable.Range(0, random.Next(1, 8)).Select(_ => (long)random.Next(v)).ToArray()).ToArray(),
                    Math.Round(1.1 + random.NextDouble(), 2)));
            }
            foreach (var (rows, histories, penalty) in cases)
            {
                int b = rows.Length, v = rows[0].Length;
                var logits = tensor(rows.SelectMany(r => r).ToArray(), [b, v], dtype: ScalarType.Float64);
                var before = logits.clone();
                string call = $"RepetitionPenalty([{string.Join("; ", rows.Select(r => string.Join(", ", r)))}], histories [{string.Join("; ", histories.Select(h => "[" + string.Join(", ", h) + "]"))}], {penalty})";
                var answer = Forbidding(["Decoding.RepetitionPenalty"], () => yours(logits, histories.Select(h => h.ToArray()).ToArray(), penalty));
                Expect(answer is not null, $"{call} returns null.");
                Expect(Same(logits, before, 0), $"{call} changed the logits it was given (an in-place operation?); return new logits.");
                Expect(answer!.shape.SequenceEqual(new long[] { b, v }), $"{call} has shape {Guard.Shape(answer)}; expected [{b}, {v}], one row per history.");
                var got = answer.detach().to_type(ScalarType.Float64).cpu().data<double>().ToArray();
                var z = rows.SelectMany(r => r).ToArray();
                // Applies a per-row rule (logit, seen count in that row's history) to every row.
                double[] Apply(Func<int, long[]> historyOf, Func<double, int, double> rule) =>
                    rows.SelectMany((row, r) =>
                    {
                        var counts = historyOf(r).GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
                        return row.Select((x, i) => counts.TryGetValue(i, out var c) ? rule(x, c) : x);
                    }).ToArray();
                double Right(double x, int _) => x > 0 ? x / penalty : x * penalty;
                var want = Apply(r => histories[r], Right);
                if (Matches(got, want)) continue;
                string Show(double[] a) => string.Join("; ", a.Chunk(v).Select(r => string.Join(", ", r.Select(x => x.ToString("0.###")))));
                string shown = $"{call} gives [{Show(got)}] instead of [{Show(want)}]";
                Expect(!got.Chunk(v).All(r => Math.Abs(r.Select(Math.Exp).Sum() - 1) < 1e-6), $"{shown}: it returns probabilities; return the penalised logits (a strategy turns them into a distribution afterwards).");
                var union = histories.SelectMany(h => h).ToArray();
                Expect(!Matches(got, Apply(_ => union, Right)) || b == 1,
                    $"{shown}: every row was penalised for the tokens of all the histories; each row has its own history.");
                Expect(!Matches(got, Apply(_ => histories[0], Right)) || b == 1,
                    $"{shown}: every row was penalised with the history of row 0; row r uses histories[r].");
                for (int r = 0; r < b; r++)
                {
                    var seen = histories[r].ToHashSet();
                    int changed = Enumerable.Range(0, v).FirstOrDefault(i => !seen.Contains(i) && Math.Abs(got[r * v + i] - z[r * v + i]) >= 1e-9, -1);
                    Expect(changed < 0, $"{shown}: in row {r}, token {changed} is not in that row's history but its logit changed.");
                }
                Expect(!Matches(got, z), $"{shown}: nothing changed for the tokens in the histories.");
                Expect(!Matches(got, Apply(r => histories[r], (x, _) => x / penalty)),
                    $"{shown}: a negative logit was divided by the penalty, which moves it towards 0 and makes that token MORE likely (as CTRL's original rule does); here negative logits must be multiplied.");
                Expect(!Matches(got, Apply(r => histories[r], (x, c) => x > 0 ? x / Math.Pow(penalty, c) : x * Math.Pow(penalty, c))),
                    $"{shown}: a token that occurs several times in a history was penalised once per occurrence; each seen token is penalised once.");
                Expect(!Matches(got, Apply(r => histories[r], (x, _) => x > 0 ? x * penalty : x / penalty)),
                    $"{shown}: the seen tokens became MORE likely: positive logits must shrink and negative ones grow more negative.");
                Expect(!Matches(got, Apply(r => histories[r], (x, _) => x - penalty)) && !Matches(got, Apply(r => histories[r], (x, _) => x - Math.Log(penalty))),
                    $"{shown}: the penalty was subtracted; this penalty divides a positive logit by θ and multiplies a negative one by θ (Hugging Face's variant of CTRL's penalty).");
                Expect(false, $"{shown}.");
            }
        });

    static bool Matches(double[] a, double[] b) => a.Length == b.Length && a.Zip(b).All(x => Math.Abs(x.First - x.Second) < 1e-6);

    // Top-p on plain doubles; the variants are the mistakes the check names.
    static double[] Reference(double[] probs, double p, bool keepCrossing = true, bool sorted = true, int extra = 0)
    {
        var order = sorted ? Enumerable.Range(0, probs.Length).OrderByDescending(i => probs[i]).ToArray() : Enumerable.Range(0, probs.Length).ToArray();
        var keep = new bool[probs.Length];
        double mass = 0;
        int k = 0;
        for (; k < order.Length; k++)
        {
            if (!keepCrossing && mass + probs[order[k]] >= p && p < 1) break;
            keep[order[k]] = true;
            mass += probs[order[k]];
            if (mass >= p) { k++; break; }
        }
        for (int e = 0; e < extra && k + e < order.Length; e++) keep[order[k + e]] = true;
        double total = probs.Where((_, i) => keep[i]).Sum();
        return total == 0 ? new double[probs.Length] : probs.Select((x, i) => keep[i] ? x / total : 0).ToArray();
    }
}
