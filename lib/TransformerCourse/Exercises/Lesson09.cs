using TransformerCourse.Transformer;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 9 (The Feed-Forward Network and the Transformer Block).</summary>
public static class Lesson09
{
    // (d, H, SwiGLU hidden width, layers): shapes the lesson never uses, always more than one layer so that a norm
    // counted once per layer and a norm counted once per stack differ.
    static readonly (int Width, int Heads, int Hidden, int Layers)[] StackCases = [(48, 4, 128, 3), (80, 5, 213, 2), (32, 2, 90, 5), (24, 3, 64, 4)];

    static readonly string[] CountRoutines =
    [
        "EncoderBlock.new", "EncoderBlock.ParameterCount", "MultiHeadAttention.new", "MultiHeadAttention.ParameterCount",
        "PositionwiseFeedForward.new", "PositionwiseFeedForward.ParameterCount", "ResidualConnection.ParameterCount",
    ];

    /// <summary>The module's count: <paramref name="c"/>.Layers Pre-LN SwiGLU encoder blocks and one final LayerNorm.</summary>
    static long StackTruth((int Width, int Heads, int Hidden, int Layers) c)
    {
        long total = 2L * c.Width;                                   // the final LayerNorm (γ, β)
        for (int i = 0; i < c.Layers; i++)
        {
            using var block = new EncoderBlock(c.Width, c.Heads, c.Hidden, norm: NormPlacement.Pre, feedForward: FeedForwardKind.SwiGlu);
            total += block.parameters().Sum(p => p.NumberOfElements);
        }
        return total;
    }

    /// <summary>Exercise 1: the parameters of a stack of Pre-LN encoder blocks with a SwiGLU feed-forward network
    /// (hidden width h, no biases) and the final LayerNorm that Pre-LN adds after the last block.</summary>
    public static Verdict PreLnSwiGluStack(Func<int, int, int, int, long> yours) => Check("your PreLnSwiGluStack",
        "go back to \"Counting a block: parameters\" and to the SwiGLU section: list the weights of one block part by part, ask which parts change when the network is gated and when the norm moves inside the branch, and what Pre-LN adds once after the whole stack.",
        () =>
        {
            long Yours(int width, int heads, int hidden, int layers) => Forbidding(CountRoutines, () => yours(width, heads, hidden, layers));
            foreach (var c in StackCases)
            {
                long want = StackTruth(c), got = Yours(c.Width, c.Heads, c.Hidden, c.Layers);
                if (got == want) continue;
                long d = c.Width, h = c.Hidden, n = c.Layers;
                string where = $"for d = {d}, H = {c.Heads}, h = {h}, {n} layers";
                Expect(Yours(c.Width, 2 * c.Heads, c.Hidden, c.Layers) == got,
                    "your count changes with the number of heads; splitting d into heads reorganises the same projection matrices and adds no weights.");
                Expect(got != want - 2 * d, $"{where} it is 2d short: the LayerNorm that Pre-LN puts after the last block is missing.");
                Expect(got != want + (n - 1) * 2 * d, $"{where} it counts the final LayerNorm once per block; the stack has only one.");
                // The two LayerNorms of a block and its four attention biases both have 4d parameters: name both.
                Expect(got != want - n * 4 * d && got != want - n * 4 * d - 2 * d,
                    $"{where} it is 4d short per block: the two LayerNorms, or the attention biases, are missing. Pre-LN moves each norm into its branch, it does not remove it, and the block in this exercise keeps the biases of its Q, K, V and O projections (only the gated feed-forward network drops its biases).");
                Expect(got != want - n * (h * d - h - d) && got != want - n * (h * d - h - d) - 2 * d,
                    $"{where} the feed-forward part has the size of a ReLU network with biases; a gated network without biases has a different count.");
                Expect(got != want + n * (2 * h + d) && got != want + n * (2 * h + d) - 2 * d,
                    $"{where} the feed-forward part has biases; the gated network here (as in LLaMA) has none.");
                Expect(got != want + n * 3 * h && got != want + n * 3 * h - 2 * d,
                    $"{where} the feed-forward part has a bias for every hidden unit of each matrix; the gated network here has none.");
                Expect(Yours(c.Width, c.Heads, c.Hidden, c.Layers + 1) - got == StackTruth(c with { Layers = c.Layers + 1 }) - want,
                    $"{where} one more layer adds {Yours(c.Width, c.Heads, c.Hidden, c.Layers + 1) - got:N0} parameters in your count; one block has {StackTruth(c with { Layers = 1 }) - 2 * d:N0}.");
                Expect(false, $"{where} your count is {got:N0}, the module has {want:N0}: each block adds the right amount, so the part you add once is off by {got - want:N0}.");
            }
        });

    // (d, hidden width, n): shapes and lengths the lesson never uses.
    static readonly (int Width, int Hidden, int N)[] FlopCases = [(48, 131, 9), (80, 213, 23), (32, 90, 41)];

    /// <summary>Exercise 2: forward FLOPs (matrix products only) of an encoder block whose FFN is SwiGLU with hidden width h.</summary>
    public static Verdict SwiGluBlockFlops(Func<long, long, long, double> yours) => Check("your SwiGluBlockFlops",
        "go back to \"Counting a block: FLOPs\": list every matrix product one block computes for n tokens, then ask which of them change when the feed-forward network gains a gate.",
        () =>
        {
            var truth = FlopCases.Select(c =>
            {
                using var block = new EncoderBlock(c.Width, 4, c.Hidden, feedForward: FeedForwardKind.SwiGlu);
                block.eval();
                return BlockFlops.FromModule(block, c.N);
            }).ToArray();
            var answers = Forbidding(["BlockFlops.FromModule", "BlockFlops.ByFormula"], () => FlopCases.Select(c => yours(c.Width, c.Hidden, c.N)).ToArray());
            bool Near(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Abs(b));
            if (answers.Zip(truth).All(p => Near(p.First, p.Second))) return;

            bool All(Func<(int Width, int Hidden, int N), double, double> wrong) =>
                FlopCases.Select((c, i) => Near(answers[i], wrong(c, truth[i]))).All(x => x);
            Expect(answers.All(double.IsFinite), "it returns a value that is not a finite number.");
            Expect(!All((c, t) => t - 2.0 * c.N * c.Width * c.Hidden),
                "its feed-forward part is exactly the ReLU block's: the gate changes what each token multiplies, so the count must change too.");
            Expect(!All((c, t) => t / 2), "it is exactly half the module's count: it counts multiply-adds, and each multiply-add is two FLOPs.");
            Expect(!All((c, t) => t - 4.0 * c.N * c.N * c.Width),
                "it leaves out the attention products Q·Kᵀ and A·V, the part that grows with n².");
            Expect(!All((c, t) => t - 8.0 * c.N * c.Width * c.Width),
                "it leaves out the four attention projections Q, K, V and O.");
            for (int i = 0; i < FlopCases.Length; i++)
            {
                var c = FlopCases[i];
                Expect(Near(answers[i], truth[i]),
                    $"for d = {c.Width}, h = {c.Hidden}, n = {c.N} it returns {answers[i]:E4} FLOPs; running the block and counting its products gives {truth[i]:E4}.");
            }
        });
}
