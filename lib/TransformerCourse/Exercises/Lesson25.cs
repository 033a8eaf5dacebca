using TransformerCourse.Modern;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 25 (Modern Building Blocks).</summary>
public static class Lesson25
{
    /// <summary>
    /// Exercise 1: RMSNorm from scratch. <c>yours(x, gain, eps)</c> returns x / √(mean(x², last dim) + eps) · gain.
    /// </summary>
    public static Verdict RmsNorm(Func<Tensor, Tensor, double, Tensor> yours) => Check("your RmsNorm",
        "go back to the section \"RMSNorm\": which statistic of each vector does it divide by, over which dimension, where does eps go, and what does it do that LayerNorm does and it does not?",
        () =>
        {
            var generator = new Generator(25);
            var cases = new List<(string What, Tensor X, Tensor Gain, double Eps)>
            {
                ("x of shape [2, 3, 8] whose vectors have a mean far from 0", randn([2, 3, 8], generator: generator) * 2 + 3, rand([8], generator: generator) + 0.5, 1e-6),
                ("x of shape [5, 6] and a random gain", randn([5, 6], generator: generator), randn([6], generator: generator), 1e-6),
                ("tiny x (about 0.001) of shape [4, 6] with eps = 1e-4", randn([4, 6], generator: generator) * 1e-3, rand([6], generator: generator) + 0.5, 1e-4),
                ("x of shape [3, 4, 16] and gain 1", randn([3, 4, 16], generator: generator) - 1, ones(16), 1e-5),
            };
            foreach (var (what, x, gain, eps) in cases)
            {
                var input = x.clone();
                var answer = Forbidding(["RmsNorm.Normalize"], () => yours(input, gain, eps));
                ExpectShape(answer, x.shape, $"for {what} your result");
                Expect(Identical(input, x), $"for {what} it changed x in place; return a new tensor.");
                var meanSquare = x.pow(2).mean([-1], keepdim: true);
                var want = x / (meanSquare + eps).sqrt() * gain;
                if (Same(answer, want, 1e-5)) continue;
                Expect(!Same(answer, x, 1e-6), $"for {what} it returns x unchanged: the placeholder is still there.");
                var centred = x - x.mean([-1], keepdim: true);
                Expect(!Same(answer, centred / (centred.pow(2).mean([-1], keepdim: true) + eps).sqrt() * gain, 1e-4),
                    $"for {what} it subtracts each vector's mean first: that is LayerNorm. RMSNorm only rescales; it does not centre.");
                Expect(!Same(answer, x / (meanSquare + eps).sqrt(), 1e-4), $"for {what} the gain is missing: multiply the normalised vector by it.");
                Expect(!Same(answer, x / (meanSquare.sqrt() + eps) * gain, 1e-4), $"for {what} eps is added after the square root; it belongs inside it, next to the mean square.");
                Expect(!Same(answer, x / meanSquare.sqrt() * gain, 1e-4), $"for {what} eps is missing: tiny vectors then get divided by almost nothing.");
                Expect(!Same(answer, x / (meanSquare + eps) * gain, 1e-4), $"for {what} it divides by the mean square itself; take its square root (the root of the mean square).");
                Expect(!Same(answer, x / (x.pow(2).sum([-1], keepdim: true) + eps).sqrt() * gain, 1e-4),
                    $"for {what} it divides by the length (the square root of the SUM of squares): the root mean square divides that sum by the width first.");
                Expect(!Same(answer, x / (x.pow(2).mean() + eps).sqrt() * gain, 1e-4),
                    $"for {what} it averages the squares over the whole tensor; each vector (the last dimension) gets its own root mean square.");
                Expect(false, $"for {what} the result differs from the formula by up to {(answer - want).abs().max().item<float>():0.####}.");
            }
        });

    /// <summary>Exercise 2: ALiBi's slopes for H heads (a power of two): m_h = 2^(−8h/H), h = 1 … H, steepest first.</summary>
    public static Verdict AlibiSlopes(Func<int, double[]> yours) => Check("your AlibiSlopes",
        "go back to the section \"ALiBi\": the slopes form a geometric sequence; what is the first slope and the ratio for H heads, and how does it change when H changes?",
        () =>
        {
            foreach (int heads in new[] { 8, 4, 16, 2, 1 })
            {
                var want = Alibi.Slopes(heads);
                var got = Forbidding(["Alibi.Slopes"], () => yours(heads));
                string call = $"AlibiSlopes({heads})";
                Expect(got is not null, $"{call} returns null.");
                Expect(got!.Length == heads, $"{call} returns {got.Length} slopes; there is one per head.");
                if (got.Zip(want).All(p => Math.Abs(p.First - p.Second) <= 1e-9 * Math.Max(1, p.Second))) continue;
                string shown = $"{call} = [{string.Join(", ", got.Select(v => $"{v:0.#####}"))}]";
                Expect(got.Any(v => v != 0), $"{shown}: all zero, the placeholder is still there.");
                bool Matches(Func<int, double> slope) => got.Select((v, i) => Math.Abs(v - slope(i)) <= 1e-9).All(x => x);
                Expect(!Matches(i => want[heads - 1 - i]), $"{shown}: the right slopes in reverse order; the first head gets the steepest.");
                Expect(!Matches(i => Math.Pow(2, -8.0 * i / heads)), $"{shown}: the first slope is 1: the heads are numbered from 1, not 0.");
                Expect(!Matches(i => Math.Pow(2, -(i + 1.0))), $"{shown}: 1/2, 1/4, … is right only for 8 heads; with {heads} heads the exponent is spread so the last slope is still 2^−8.");
                Expect(!Matches(i => Math.Exp(-8.0 * (i + 1) / heads)), $"{shown}: a power of e; ALiBi's slopes are powers of 2.");
                Expect(!Matches(i => Math.Pow(2, -8.0 * (i + 1) / heads) * (i + 1)), $"{shown}: not a geometric sequence.");
                Expect(false, $"{shown}, but the slopes are [{string.Join(", ", want.Select(v => $"{v:0.#####}"))}].");
            }
        });

    /// <summary>Exercise 3: the sliding-window mask (T, T), true where query i may see key j: j ≤ i and i − j &lt; W.</summary>
    public static Verdict WindowMask(Func<int, int, Tensor> yours) => Check("your WindowMask",
        "go back to the section \"Sliding-window attention\": which keys may query i see (which may it never see), and how many of them are there?",
        () =>
        {
            foreach (var (length, window) in new[] { (6, 3), (8, 1), (5, 5), (7, 10), (10, 4) })
            {
                string call = $"WindowMask({length}, {window})";
                var got = Forbidding(["SlidingWindow.Mask"], () => yours(length, window));
                ExpectShape(got, [length, length], call);
                Expect(got.dtype == ScalarType.Bool, $"{call} has dtype {got.dtype}; return a Bool mask (true = may attend).");
                var want = SlidingWindow.Mask(length, window);
                if (Identical(got, want)) continue;
                var causal = ones(length, length, dtype: ScalarType.Bool).tril();
                var i = arange(length).unsqueeze(1);
                var j = arange(length).unsqueeze(0);
                Expect(!Identical(got, zeros(length, length, dtype: ScalarType.Bool)), $"{call} allows nothing: the placeholder is still there.");
                Expect(!Identical(got, want.logical_not()), $"{call} is inverted: true must mark the keys a query MAY see.");
                Expect(!Identical(got, causal), $"{call} is the plain causal mask: the window is missing, so query i still sees all i + 1 keys.");
                Expect(!Identical(got, (i - j).abs().lt(window)), $"{call} lets queries see the next keys too: the window must stay causal (j ≤ i).");
                Expect(!Identical(got, causal.logical_and((i - j).le(window))), $"{call} lets each query see {window + 1} keys, one too many (an off-by-one: < or ≤?).");
                Expect(!Identical(got, causal.logical_and((i - j).lt(window - 1))), $"{call} lets each query see only {window - 1} keys, one too few.");
                Expect(!Identical(got, want.T), $"{call} is transposed: rows are queries, columns are keys.");
                Expect(false, $"{call} differs from the sliding-window mask in {got.not_equal(want).sum().item<long>()} of {length * length} entries.");
            }
        });

    /// <summary>Same shape and every element equal.</summary>
    static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
