using TorchSharp;
using TransformerCourse.Transformer;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 7 (Positional Encoding).</summary>
public static class Lesson07
{
    /// <summary>Library routines that would hand back an answer; both exercises refuse them.</summary>
    static readonly string[] Shortcuts = ["SinusoidalPositionalEncoding.Table", "Lesson07.Table", "Lesson07.Rotation"];

    static readonly (int Length, int Width)[] TableCases = [(50, 32), (7, 8), (13, 2), (3, 100), (64, 18)];

    /// <summary>Exercise 1: the (length, width) sinusoidal table, sine in even columns and cosine in odd ones.</summary>
    public static Verdict SinusoidalTable(Func<int, int, Tensor> yours) => Check("your MySinusoidal",
        "reread \"Sinusoidal encodings\": which index i does a column belong to, what frequency does pair i turn at, and which of its two columns holds the sine?",
        () =>
        {
            foreach (var (length, width) in TableCases)
            {
                var sizes = $"length {length}, width {width}";
                var mine = Forbidding(Shortcuts, () => yours(length, width));
                ExpectShape(mine, [length, width], $"MySinusoidal({length}, {width})");
                Expect(mine.is_floating_point(), $"it returns {mine.dtype} values; the table holds real numbers between −1 and 1.");
                mine = mine.detach().cpu().to_type(ScalarType.Float64);
                var want = Table(length, width);
                if (Same(mine, want, 1e-5)) continue;

                Expect(!Same(mine, Table(length, width, swap: true), 1e-5), $"with {sizes}, the cosines are in the even columns and the sines in the odd ones: position 0 should read 0, 1, 0, 1, ….");
                Expect(!Same(mine, Table(length, width, halves: true), 1e-5), $"with {sizes}, all sines come first and all cosines after them; this lesson's table interleaves them, one sine–cosine pair per frequency.");
                Expect(!Same(mine, Table(length, width, exponentScale: 0.5), 1e-5), $"with {sizes}, the frequencies fall too slowly from pair to pair (the last pair's wavelength is far too short): check the exponent for pair i.");
                Expect(!Same(mine, Table(length, width, exponentScale: 2), 1e-5), $"with {sizes}, the frequencies fall too fast from pair to pair: pair i sits in columns 2i and 2i+1, so do not use the column number where the formula has i.");
                Expect(!Same(mine, Table(length, width, firstPosition: 1), 1e-5), $"with {sizes}, your first row is position 1; positions count from 0.");
                Expect(width <= 2 || !Same(mine, Table(length, width, lastPairAtBase: true), 1e-5), $"with {sizes}, your exponent divides by the number of pairs minus one, so the last pair turns exactly at 1/10000; the formula divides by the width d.");
                Expect(false, $"with {sizes}, your table differs from the sinusoidal encoding by up to {(mine - want).abs().max().item<double>():G3}.");
            }
        });

    /// <summary>
    /// The sinusoidal table in float64, with switches that build the usual mistakes: sine and cosine swapped, all
    /// sines before all cosines, the exponent 2i/d scaled, positions starting at 1, the exponent i/(d/2 − 1).
    /// Refused inside an exercise check.
    /// </summary>
    public static Tensor Table(long length, long width, bool swap = false, bool halves = false, double exponentScale = 1, long firstPosition = 0, bool lastPairAtBase = false)
    {
        RebuiltRoutines.Enter("Lesson07.Table");
        var positions = arange(firstPosition, firstPosition + length, dtype: ScalarType.Float64).unsqueeze(1);
        var exponents = lastPairAtBase
            ? arange(0, width / 2, dtype: ScalarType.Float64) / Math.Max(1, width / 2 - 1)
            : arange(0, width, 2, dtype: ScalarType.Float64) / width * exponentScale;
        var angles = positions / pow(10000.0, exponents).unsqueeze(0);
        var (even, odd) = swap ? (angles.cos(), angles.sin()) : (angles.sin(), angles.cos());
        return halves ? cat([even, odd], -1) : stack([even, odd], -1).reshape(length, width);
    }

    static readonly (int Width, int K)[] ShiftCases = [(16, 1), (16, 5), (8, 13), (6, -3), (12, 40), (4, 0)];

    /// <summary>
    /// Exercise 2: the (d, d) matrix R_k with R_k · PE_p = PE_{p+k} for every position p (one 2×2 rotation per
    /// sine–cosine pair). Checked on every row of a table, for several widths and shifts, negative ones included.
    /// </summary>
    public static Verdict ShiftMatrix(Func<int, int, Tensor> yours) => Check("your ShiftMatrix",
        "go back to \"The dot product depends only on the distance\": write PE_{p+k} for one sine–cosine pair with the angle-addition formulas, and read the 2×2 matrix off them; each pair turns at its own frequency.",
        () =>
        {
            const int length = 80;
            foreach (var (width, k) in ShiftCases)
            {
                var pe = Table(length, width);
                var sizes = $"width {width}, k = {k}";
                var r = ExpectShape(Forbidding(Shortcuts, () => yours(width, k)), [width, width], $"ShiftMatrix({width}, {k})").detach().cpu().to_type(ScalarType.Float64);
                int from = Math.Max(0, -k), to = Math.Min(length, length - k);                 // rows p with p + k inside the table
                var moved = pe[from..to].matmul(r.T);                                            // row p becomes R_k · PE_p
                var target = pe[(from + k)..(to + k)];
                if (Same(moved, target, 1e-4)) continue;

                Expect(!(k != 0 && Same(r, eye(width, dtype: ScalarType.Float64), 1e-6)), $"with {sizes}, your matrix is the identity: it leaves every position where it is, a shift by 0.");
                Expect(!Same(pe[from..to].matmul(r), target, 1e-4),
                    $"with {sizes}, your matrix is the transpose of R_k, which is R_(−k): it turns each pair the wrong way and moves positions backward. Check the signs of the sines.");
                var blocks = zeros(width, width, dtype: ScalarType.Bool);
                for (int i = 0; i < width; i += 2) blocks[i..(i + 2), i..(i + 2)] = true;
                Expect(r.masked_select(blocks.logical_not()).abs().max().item<double>() < 1e-6,
                    $"with {sizes}, your matrix mixes different sine–cosine pairs; each pair only turns within its own two columns.");
                Expect(!(k != 0 && Same(r, Rotation(width, k, sameAngle: true), 1e-6)),
                    $"with {sizes}, every pair turns by the same angle k; pair i turns at its own frequency, so its angle is that frequency times k.");
                Expect(false, $"with {sizes}, R_k · PE_p differs from PE_(p+k) by up to {(moved - target).abs().max().item<double>():G3}: check each pair's angle.");
            }
        });

    /// <summary>
    /// The reference R_k (float64): one rotation by ω_i·k per sine–cosine pair; with <paramref name="sameAngle"/>,
    /// the mistake of turning every pair by k. Refused inside an exercise check.
    /// </summary>
    public static Tensor Rotation(int width, int k, bool sameAngle = false)
    {
        RebuiltRoutines.Enter("Lesson07.Rotation");
        var r = zeros(width, width, dtype: ScalarType.Float64);
        for (int i = 0; i < width / 2; i++)
        {
            double angle = (sameAngle ? 1 : Math.Pow(10000, -2.0 * i / width)) * k;
            r[2 * i, 2 * i] = Math.Cos(angle);
            r[2 * i, 2 * i + 1] = Math.Sin(angle);
            r[2 * i + 1, 2 * i] = -Math.Sin(angle);
            r[2 * i + 1, 2 * i + 1] = Math.Cos(angle);
        }
        return r;
    }
}
