using TorchSharp;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 5 (Attention in Action).</summary>
public static class Lesson05
{
    /// <summary>
    /// Exercise 1: predict, before looking, the alignment a trained <c>AlignmentAttentionModel</c> learns for a
    /// left rotation by <paramref name="shift"/> (target[i] = source[(i + shift) mod L]). The learner's function
    /// is probed on several lengths and shifts, then compared with <paramref name="learned"/>, the trained model's
    /// mean weights (L, L), within 0.05.
    /// </summary>
    public static Verdict PredictedAlignment(Func<int, int, Tensor> yours, int shift, Tensor learned) => Check("your predicted alignment",
        "revisit 'The task: write it backwards': a perfect model puts all of output i's weight on the one source position it copies. Work out that position for output 0, then for the last output.",
        () =>
        {
            Expect(learned.dim() == 2 && learned.shape[0] == learned.shape[1], $"the learned alignment has shape {Guard.Shape(learned)}, expected a square (L, L) matrix.");
            int length = (int)learned.shape[0];
            foreach (var (n, s) in new[] { (length, shift), (5, 1), (6, 4), (4, 0), (7, 9) })
            {
                var label = $"PredictedAlignment({n}, {s})";
                var mine = ExpectShape(yours(n, s), [n, n], label).detach().cpu().to_type(ScalarType.Float64);
                var want = Rotation(n, s, s);
                if (Same(mine, want, 1e-6)) continue;
                Expect(!(s % n != 0 && Same(mine, eye(n, dtype: ScalarType.Float64))), $"{label} is still the copy alignment: every output reads its own position.");
                Expect(!Same(mine, Rotation(n, s, -s), 1e-6), $"{label} shifts the other way (or swaps rows and columns): row i reads source position (i − shift), but output i copies the token shift places *after* it.");
                Expect(!Same(mine, eye(n, dtype: ScalarType.Float64).flip(1), 1e-6), $"{label} is the reversal alignment from the start of the lesson, not a rotation.");
                var rowSums = mine.sum(1);
                long emptyRows = rowSums.abs().lt(1e-6).sum().item<long>();
                Expect(!(emptyRows > 0 && Same(mine, want.where(rowSums.unsqueeze(1).gt(1e-6), 0.0), 1e-6)),
                    $"{label} has {emptyRows} empty row(s) at the end: an output whose source position falls past the end must wrap around to the start.");
                Expect(Same(rowSums, ones(n, dtype: ScalarType.Float64), 1e-6), $"the rows of {label} do not each sum to 1: every output spreads a total weight of one over the source.");
                Expect(!(n != length && Same(yours(length, shift).detach().cpu().to_type(ScalarType.Float64), Rotation(length, shift, shift), 1e-6)),
                    $"it is right for length {length}, shift {shift} but not for {label}: the answer has to follow the arguments, not be typed in.");
                Expect(false, $"{label} does not put each output's weight on the source position it copies.");
            }
            var prediction = yours(length, shift).detach().cpu().to_type(ScalarType.Float64);
            double gap = (prediction - learned.detach().cpu().to_type(ScalarType.Float64)).abs().max().item<double>();
            Expect(gap <= 0.05, $"your prediction is the ideal rotation alignment, but the trained model's mean weights differ from it by up to {gap:0.000} (tolerance 0.05).");
        });

    // Row i has a single 1 in column (i + offset) mod n; `shift` only names the case.
    static Tensor Rotation(int n, int shift, int offset) => eye(n, dtype: ScalarType.Float64).roll(((offset % n) + n) % n, 1);

    /// <summary>
    /// Exercise 2: accuracy by position from scratch, (batch, L, vocab) logits and (batch, L) targets → one
    /// fraction per position. Rebuilds <c>PositionAccuracy.FromLogits</c>, which the check forbids.
    /// </summary>
    public static Verdict AccuracyByPosition(Func<Tensor, Tensor, double[]> yours) => Check("your AccuracyByPosition",
        "revisit 'Accuracy against distance': a position's accuracy is the share of the sequences in the batch that got that position right.",
        () =>
        {
            foreach (var (batch, length, vocab, rightPerPosition) in Probes)
            {
                var (logits, target) = Probe(batch, length, vocab, rightPerPosition);
                var expected = rightPerPosition.Select(r => (double)r / batch).ToArray();
                var shape = $"logits ({batch}, {length}, {vocab})";
                double[] mine;
                try { mine = Forbidding(["PositionAccuracy.FromLogits"], () => yours(logits, target)); }
                catch (Exception e) when (e is not NotYetException and not NotImplementedException)
                {
                    throw new NotYetException($"on {shape} it throws {e.GetType().Name} ({e.Message.Split('\n')[0].Trim()}): check which axis holds the vocabulary and which the positions.");
                }
                Expect(mine is not null, "it returns null.");
                Expect(!(mine!.Length == batch && batch != length), $"on {shape} it returns {batch} values, one per sequence: it averages over the positions instead of over the sequences.");
                Expect(mine.Length != 1 || length == 1, $"on {shape} it returns a single number: that is the overall accuracy, but we want one value per position.");
                Expect(mine.Length == length, $"on {shape} it returns {mine.Length} values, expected one per position ({length}).");
                if (mine.Zip(expected).All(p => Math.Abs(p.First - p.Second) <= 1e-9)) continue;
                Expect(!(mine.All(v => v == 0) && expected.Any(v => v > 0)), $"on {shape} every value is 0 although some positions are right (the placeholder, or a division of two whole numbers that rounds down).");
                Expect(!(mine.All(v => v == 0 || v == 1) && expected.Any(v => v != 0 && v != 1)),
                    $"on {shape} every value is a whole number (0 or 1) although some positions are right in only part of the sequences: a division of two whole numbers rounds down.");
                Expect(mine.All(v => v >= 0 && v <= 1), $"on {shape} some values are outside [0, 1]: counts of right answers rather than fractions?");
                Expect(!mine.Zip(expected).All(p => Math.Abs(p.First - (1 - p.Second)) <= 1e-9), $"on {shape} it returns the fraction of wrong predictions, not of right ones.");
                double overall = expected.Average();
                Expect(!(expected.Distinct().Count() > 1 && mine.All(v => Math.Abs(v - overall) <= 1e-9)),
                    $"on {shape} every position gets the overall accuracy {overall:0.000}: average over the sequences only, keeping the positions apart.");
                Expect(false, $"on {shape} position accuracies should be [{string.Join(", ", expected.Select(v => v.ToString("0.000")))}] but yours are [{string.Join(", ", mine.Select(v => v.ToString("0.000")))}].");
            }
        });

    // (batch, length, vocab, how many sequences are right at each position). The square case has
    // batch = length = vocab, so an argmax or a mean over the wrong axis runs without error and gives other numbers.
    static readonly (int Batch, int Length, int Vocab, int[] Right)[] Probes =
    [
        (6, 4, 5, [6, 3, 1, 0]),
        (5, 5, 5, [0, 2, 5, 1, 4]),
        (3, 7, 9, [3, 3, 3, 3, 3, 3, 3]),
        (8, 3, 4, [2, 7, 5]),
    ];

    static (Tensor Logits, Tensor Target) Probe(int batch, int length, int vocab, int[] right)
    {
        using var generator = new Generator(seed: (ulong)(5 + 7 * batch + length));
        var logits = randn([batch, length, vocab], generator: generator);
        var predicted = logits.argmax(-1);
        // Sequences 0..right[j]−1 are right at position j; shuffle which sequences those are per position.
        var rightMask = zeros(batch, length, dtype: ScalarType.Bool);
        for (int j = 0; j < length; j++)
        {
            var order = randperm(batch, generator: generator).narrow(0, 0, right[j]);
            if (right[j] > 0) rightMask[order, j] = true;
        }
        var target = predicted.where(rightMask, (predicted + 1).remainder(vocab));
        return (logits, target);
    }
}
