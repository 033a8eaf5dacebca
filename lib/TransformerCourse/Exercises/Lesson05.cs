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
    /// Exercise 2: the path length of the lesson's LSTM on the rotation task. <c>LstmBaseline</c> reads source token j
    /// at time j and writes output i at time L + i; output i of a left rotation by <c>shift</c> copies source position
    /// (i + shift) mod L. The learner returns, for each output, how many steps that token has to be carried.
    /// </summary>
    public static Verdict LstmCarryDistance(Func<int, int, int[]> yours) => Check("your LstmCarryDistance",
        "revisit 'The recurrent baseline': find the time step at which the LSTM reads the source token that output i needs (Exercise 1 tells you which one), and the time step at which it writes output i.",
        () =>
        {
            foreach (var (n, s) in CarryCases)
            {
                var label = $"LstmCarryDistance({n}, {s})";
                var want = Carry(n, s, i => (i + s) % n);
                var mine = yours(n, s);
                Expect(mine is not null, $"{label} returns null.");
                Expect(mine!.Length == n, $"{label} returns {mine.Length} values, expected one per output ({n}).");
                if (mine.SequenceEqual(want)) continue;
                string Show(int[] d) => "[" + string.Join(", ", d) + "]";
                Expect(!(mine.SequenceEqual(Enumerable.Range(0, n).Select(i => 2 * i + 1))),
                    $"{label} is {Show(mine)}, the reversal's distances 2i + 1: a rotation copies different source positions.");
                Expect(!mine.All(d => d == 1), $"{label} is all ones: that is attention's path, one step. The question is how long the LSTM's state has to carry the token.");
                Expect(!mine.SequenceEqual(Carry(n, s, i => i + s)),
                    $"{label} is {Show(mine)}: for the last outputs, i + shift runs past the end of the source; the rotation wraps around to the start.");
                Expect(!mine.SequenceEqual(Carry(n, s, i => ((i - s) % n + n) % n)),
                    $"{label} is {Show(mine)}: that rotation shifts the other way; output i copies the token shift places *after* position i.");
                Expect(!(mine.Zip(want).All(p => p.First == p.Second + 1) || mine.Zip(want).All(p => p.First == p.Second - 1)),
                    $"{label} is {Show(mine)}, off by one everywhere: count from 0, so token j is read at time j and output i is written at time L + i.");
                Expect(!(mine.Zip(want).All(p => p.First == p.Second + n) || mine.Zip(want).All(p => p.First == p.Second - n)),
                    $"{label} is {Show(mine)}, off by L everywhere: the LSTM first reads all L source tokens, then writes the outputs.");
                Expect(!(n != CarryCases[0].N && yours(CarryCases[0].N, CarryCases[0].Shift).SequenceEqual(Carry(CarryCases[0].N, CarryCases[0].Shift, i => (i + CarryCases[0].Shift) % CarryCases[0].N))),
                    $"it is right for length {CarryCases[0].N}, shift {CarryCases[0].Shift} but not for {label}: the answer has to follow the arguments, not be typed in.");
                Expect(false, $"{label} should be {Show(want)} but is {Show(mine)}.");
            }
        });

    // The lesson's own case first, then a copy (shift 0), shift 1, a shift past the length and a long sequence.
    static readonly (int N, int Shift)[] CarryCases = [(8, 3), (5, 1), (6, 4), (4, 0), (7, 9), (20, 3)];

    // Output i is written at time n + i; the token it copies, source position source(i), was read at time source(i).
    static int[] Carry(int n, int shift, Func<int, int> source) => Enumerable.Range(0, n).Select(i => n + i - source(i)).ToArray();
}
