using TransformerCourse.Transformer;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 9 (The Feed-Forward Network and the Transformer Block).</summary>
public static class Lesson09
{
    // (d, d_ff) pairs the lesson never shows. The ideal width (2·d·d_ff + d_ff + d) / (3d) has a fractional part
    // above ½ for some (rounding down is then wrong) and below ½ for others (rounding up is then wrong).
    static readonly (int Width, int ReluHidden)[] WidthCases = [(40, 100), (48, 200), (80, 300), (100, 400), (30, 70), (96, 200)];

    /// <summary>Exercise 1: the SwiGLU hidden width whose 3·d·h parameters come closest to a ReLU FFN (d, reluHidden), biases included.</summary>
    public static Verdict MatchingSwiGluWidth(Func<int, int, int> yours) => Check("your MatchingSwiGluWidth",
        "go back to \"SwiGLU, and the ⅔ rule\": write both parameter counts for the same d, ask which h makes them equal, and remember that a width must be a whole number — the nearest one, not any one.",
        () =>
        {
            var answers = WidthCases.Select(c => yours(c.Width, c.ReluHidden)).ToArray();
            long Relu((int Width, int ReluHidden) c) => PositionwiseFeedForward.ParameterCount(FeedForwardKind.Relu, c.Width, c.ReluHidden);
            long Swi(int width, long h) => PositionwiseFeedForward.ParameterCount(FeedForwardKind.SwiGlu, width, h);
            double Ideal((int Width, int ReluHidden) c) => Relu(c) / (3.0 * c.Width);
            int Best((int Width, int ReluHidden) c) => (int)Math.Round(Ideal(c));
            bool All(Func<(int Width, int ReluHidden), int> candidate) => WidthCases.Select((c, i) => answers[i] == candidate(c)).All(x => x);
            if (answers.Zip(WidthCases).All(p => p.First == Best(p.Second))) return;

            Expect(!All(c => c.ReluHidden), "it returns the ReLU network's hidden width: with a third matrix, SwiGLU of that width has about 1.5 times the parameters.");
            Expect(!All(c => (int)Math.Floor(Ideal(c))), "it is one too small whenever the exact width has a fraction above ½: it rounds down (integer division truncates) instead of to the nearest whole number.");
            Expect(!All(c => (int)Math.Ceiling(Ideal(c))), "it is one too large whenever the exact width has a fraction below ½: it rounds up instead of to the nearest whole number.");
            Expect(!All(c => (int)Math.Round(2.0 * c.ReluHidden / 3)), "it is the ⅔ rule without biases; this exercise counts the ReLU network's biases too, so the matching width is a little larger.");
            for (int i = 0; i < WidthCases.Length; i++)
            {
                var c = WidthCases[i];
                int h = answers[i];
                Expect(h > 0, $"for d = {c.Width}, reluHidden = {c.ReluHidden} it returns {h}; a hidden width must be positive.");
                Expect(h == Best(c),
                    $"for d = {c.Width}, reluHidden = {c.ReluHidden} it returns {h}: SwiGLU then has {Swi(c.Width, h):N0} parameters against the ReLU network's {Relu(c):N0}, and another width comes closer.");
            }
        });

    // (d, heads, hidden width, n): shapes and lengths the lesson never uses.
    static readonly (int Width, int Heads, int Hidden, int N)[] FlopCases = [(48, 4, 131, 9), (80, 5, 213, 23), (32, 2, 90, 41)];

    /// <summary>Exercise 2: forward FLOPs (matrix products only) of an encoder block whose FFN is SwiGLU with hidden width h.</summary>
    public static Verdict SwiGluBlockFlops(Func<long, long, long, double> yours) => Check("your SwiGluBlockFlops",
        "go back to \"Counting a block: FLOPs\": list every matrix product one block computes for n tokens, then ask which of them change when the feed-forward network gains a gate.",
        () =>
        {
            var truth = FlopCases.Select(c =>
            {
                using var block = new EncoderBlock(c.Width, c.Heads, c.Hidden, feedForward: FeedForwardKind.SwiGlu);
                block.eval();
                return BlockFlops.FromModule(block, c.N);
            }).ToArray();
            var answers = Forbidding(["BlockFlops.FromModule"], () => FlopCases.Select(c => yours(c.Width, c.Hidden, c.N)).ToArray());
            bool Near(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Abs(b));
            if (answers.Zip(truth).All(p => Near(p.First, p.Second))) return;

            bool All(Func<(int Width, int Heads, int Hidden, int N), double, double> wrong) =>
                FlopCases.Select((c, i) => Near(answers[i], wrong(c, truth[i]))).All(x => x);
            Expect(answers.All(double.IsFinite), "it returns a value that is not a finite number.");
            Expect(!All((c, t) => t - 2.0 * c.N * c.Width * c.Hidden),
                "it counts the feed-forward network as two d×h matrices, as in the ReLU block; SwiGLU has a third one (the gate).");
            Expect(!All((c, t) => t / 2), "it is exactly half the module's count: it counts multiply-adds, and each multiply-add is two FLOPs.");
            Expect(!All((c, t) => t - 4.0 * c.N * c.N * c.Width),
                "it leaves out the attention products Q·Kᵀ and A·V, the part that grows with n².");
            Expect(!All((c, t) => t - 8.0 * c.N * c.Width * c.Width),
                "it leaves out the four attention projections Q, K, V and O.");
            Expect(!All((c, t) => t + 4.0 * c.N * c.N * c.Width * (c.Heads - 1)),
                "its attention term grows with the number of heads; splitting d into heads does not add work.");
            for (int i = 0; i < FlopCases.Length; i++)
            {
                var c = FlopCases[i];
                Expect(Near(answers[i], truth[i]),
                    $"for d = {c.Width}, h = {c.Hidden}, n = {c.N} it returns {answers[i]:E4} FLOPs; running the block and counting its products gives {truth[i]:E4}.");
            }
        });
}
