using TorchSharp;
using TransformerCourse.Gpt;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 26 (Building the Mini-GPT).</summary>
public static class Lesson26
{
    /// <summary>
    /// Exercise 1: cut one window per start out of a 1-D token tensor: X[b] = data[s_b … s_b + T − 1] and Y[b] the same
    /// window one token later. Probed on the checker's own data, so a hard-coded answer fails.
    /// </summary>
    public static Verdict MakeBatch(Func<Tensor, Tensor, int, (Tensor X, Tensor Y)> yours) => Check("your MakeBatch",
        "revisit section 4 (batches): which token is the target for the input at position j, and where does row b's window begin?",
        () =>
        {
            var data = arange(3000, dtype: ScalarType.Int64) * 7 % 2999;   // distinct ids: every window is recognisable
            foreach (var (starts, context) in new (long[] Starts, int Context)[] { ([17, 0, 999, 2900], 32), ([5], 1), ([300, 3, 3], 7) })
            {
                var s = tensor(starts);
                var (x, y) = yours(data, s, context);
                long b = starts.Length;
                ExpectShape(x, [b, context], $"X for {b} starts and context {context}");
                ExpectShape(y, [b, context], $"Y for {b} starts and context {context}");
                Expect(!(x.eq(0).all().item<bool>() && y.eq(0).all().item<bool>()), "X and Y are all zeros: replace the placeholder with the windows cut out of `data`.");
                Expect(x.dtype == ScalarType.Int64 && y.dtype == ScalarType.Int64, $"X and Y are {x.dtype} and {y.dtype}; token ids are int64 (the embedding looks them up).");
                for (int r = 0; r < b; r++)
                {
                    var wantX = data.narrow(0, starts[r], context);
                    var wantY = data.narrow(0, starts[r] + 1, context);
                    bool xRight = x[r].eq(wantX).all().item<bool>(), yRight = y[r].eq(wantY).all().item<bool>();
                    if (xRight && yRight) continue;
                    Expect(!y[r].eq(x[r]).all().item<bool>(), "Y is the same as X: the target at each position must be the token that comes next, not the token itself.");
                    Expect(!(xRight && starts[r] > 0 && y[r].eq(data.narrow(0, starts[r] - 1, context)).all().item<bool>()),
                        "Y is shifted the wrong way: it starts one token before X instead of one token after it.");
                    Expect(!x[r].eq(data.narrow(0, starts[r] + 1, context)).all().item<bool>(), $"row {r} of X starts one token late: it should begin exactly at starts[{r}].");
                    Expect(xRight, $"row {r} of X (start {starts[r]}, context {context}) is not the window that begins at starts[{r}].");
                    Expect(false, $"X is right, but row {r} of Y is not X's window moved one token later.");
                }
            }
        });

    /// <summary>
    /// Exercise 2: the number of parameters of a <see cref="GptModel"/> from its configuration alone. Building a model or
    /// one of its blocks (or asking one for its count) is not allowed; the checker compares with real models built outside the check.
    /// </summary>
    public static Verdict CountParameters(Func<GptConfig, long> yours)
    {
        GptConfig[] configs = [TrainingRecipe.Cpu.ModelConfig(65), TrainingRecipe.Gpu.ModelConfig(65), new(50, 10, 3, 2, 6), new(7, 5, 1, 1, 4)];
        var actual = configs.Select(c => { using var m = new GptModel(c); return m.ParameterCount; }).ToArray();
        return Check("your parameter formula",
            "go through section 5 component by component: what does each Linear and each LayerNorm hold besides its matrix, which tables sit outside the blocks, and what does weight tying mean for the output layer?",
            () =>
            {
                var answers = Forbidding(["new GptModel(...)", "GptModel.ParameterCount", "new GptBlock(...)", "new Mlp(...)", "new CausalSelfAttention(...)"], () => configs.Select(yours).ToArray());
                for (int i = 0; i < configs.Length; i++)
                {
                    var c = configs[i];
                    long got = answers[i], want = actual[i], d = c.Width, l = c.Layers;
                    if (got == want) continue;
                    string which = $"for V = {c.VocabSize}, T = {c.ContextLength}, L = {l}, d = {d} you get {got:N0} instead of {want:N0}";
                    Expect(got != 0, "it still returns 0: replace the placeholder with your formula.");
                    Expect(!answers.All(a => a == got) || configs.Length == 1, $"it returns {got:N0} for every configuration: the count must be computed from the configuration.");
                    Expect(got != want + (long)c.VocabSize * d, $"{which}: you counted the output layer, but it reuses the token embedding (weight tying) and adds nothing.");
                    Expect(got != want - (long)c.ContextLength * d, $"{which}: the position embedding table is missing.");
                    Expect(got != want - l * 9 * d, $"{which}: the biases of the four Linear layers in each block are missing.");
                    Expect(got != want - (l * 4 * d + 2 * d), $"{which}: the layer norms (a gain and an offset vector each, two per block and one at the end) are missing.");
                    Expect(got != want - 2 * d, $"{which}: the final layer norm after the last block (a gain and an offset vector) is missing.");
                    Expect(got != want - (2 * l + 1) * d, $"{which}: each layer norm holds two vectors, a gain and an offset; you counted one.");
                    Expect(got != want - (l * 13 * d + 2 * d), $"{which}: every vector is missing — the biases and the layer norms' gains and offsets.");
                    Expect(got != 12 * l * d * d, $"{which}: 12·L·d² counts only the matrices inside the blocks.");
                    Expect(false, $"{which}.");
                }
            });
    }
}
