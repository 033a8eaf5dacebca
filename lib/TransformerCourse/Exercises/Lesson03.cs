using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 3 (Queries, Keys and Values).</summary>
public static class Lesson03
{
    static Tensor Kernel(Tensor trainX, Tensor trainY, Tensor queryX, double h, int softmaxDim = -1, double sign = -1)
    {
        var diff = queryX.unsqueeze(1) - trainX.unsqueeze(0);
        return (sign * diff * diff / (2 * h * h)).softmax(softmaxDim).matmul(trainY);
    }

    /// <summary>
    /// Exercise 1: Nadaraya–Watson kernel regression written with tensor operations, without calling
    /// <c>NadarayaWatson.Predict</c> or <c>ScaledDotProductAttention.Compute</c>. Probed on data and bandwidths
    /// the lesson never used, with different numbers of queries and training points.
    /// </summary>
    public static Verdict KernelRegression(Func<Tensor, Tensor, Tensor, double, Tensor> yours) => Check("your MyKernelRegression",
        "revisit the Nadaraya–Watson section: what is the score of a training point for a query, over which points does the softmax normalise, and what is averaged?",
        () =>
        {
            using var generator = new Generator(seed: 303);
            foreach (var (nTrain, nQuery, h) in new (long, long, double)[] { (25, 13, 0.4), (9, 30, 0.15), (40, 7, 1.1) })
            {
                var trainX = (rand([nTrain], dtype: ScalarType.Float64, generator: generator) * 4).sort().Values;
                var trainY = trainX.cos() * 2 + 0.2 * randn([nTrain], dtype: ScalarType.Float64, generator: generator);
                var queryX = linspace(-0.5, 4.5, nQuery, dtype: ScalarType.Float64);
                var want = Kernel(trainX, trainY, queryX, h);
                var got = Forbidding(["NadarayaWatson.Predict", "ScaledDotProductAttention.Compute"], () => yours(trainX.clone(), trainY.clone(), queryX.clone(), h));
                got = ExpectShape(got, [nQuery], $"MyKernelRegression with {nTrain} training points and {nQuery} queries");
                Expect(got.abs().max().item<double>() > 0, "every prediction is zero — is it still the placeholder?");
                if (Same(got, want, 1e-6)) continue;
                if (nQuery != nTrain)
                    Expect(!Same(got, Kernel(trainX, trainY, queryX, h, softmaxDim: 0), 1e-6),
                        "its weights add up to 1 over the queries; each query's weights should add up to 1 over the training points.");
                Expect(!Same(got, Kernel(trainX, trainY, queryX, h, sign: +1), 1e-6),
                    "it gives the most weight to the training points farthest from the query: the score must be highest for the closest points.");
                foreach (var other in new[] { h / Math.Sqrt(2), h * Math.Sqrt(2), Math.Sqrt(h), Math.Sqrt(h / 2), h * h })
                    Expect(!Same(got, Kernel(trainX, trainY, queryX, other), 1e-6),
                        $"its predictions are those of kernel regression with a different bandwidth ({other:G3} instead of {h}): check how h enters the score.");
                Expect(false, $"with {nTrain} training points and h = {h} its predictions differ from Nadaraya–Watson's by up to {(got - want).abs().max().item<double>():G3}.");
            }
        });

    /// <summary>
    /// Exercise 2: the three bias-free projections of cross-attention, built for any widths: W_Q reads the
    /// decoder's states, W_K and W_V the encoder's; queries and keys meet in d_k, values come out with d_v.
    /// </summary>
    public static Verdict CrossProjections(Func<long, long, long, long, (Linear Query, Linear Key, Linear Value)> yours) => Check("your CrossProjections",
        "revisit \"Self-attention and cross-attention\": which sequence does each of the three roles come from, and which two of them must meet in a dot product?",
        () =>
        {
            using var generator = new Generator(seed: 304);
            foreach (var (dec, enc, dK, dV) in new (long, long, long, long)[] { (32, 48, 16, 24), (10, 6, 4, 5), (7, 12, 9, 3) })
            {
                var (pq, pk, pv) = yours(dec, enc, dK, dV);
                Expect(pq is not null && pk is not null && pv is not null, "one of the projections is null.");
                string Where(long width) => width == dec ? "the decoder's" : width == enc ? "the encoder's" : "neither sequence's";
                long qIn = pq!.weight!.shape[1], kIn = pk!.weight!.shape[1], vIn = pv!.weight!.shape[1];
                long qOut = pq.weight.shape[0], kOut = pk.weight.shape[0], vOut = pv.weight.shape[0];
                string widths = $"(decoder width {dec}, encoder width {enc}, d_k = {dK}, d_v = {dV})";
                Expect(!(qIn == 1 && qOut == 1 && kIn == 1 && kOut == 1 && vIn == 1 && vOut == 1),
                    $"{widths}: all three projections are still the 1 → 1 placeholders. Each must read the width of the sequence its role comes from, and produce the width its role needs.");
                Expect(!((qIn == dK && qOut == dec) || (kIn == dK && kOut == enc) || (vIn == dV && vOut == enc)),
                    $"{widths}: a projection looks built the wrong way round (W_Q {Guard.Shape(pq.weight)}, W_K {Guard.Shape(pk.weight)}, W_V {Guard.Shape(pv.weight)} as (out, in)): nn.Linear takes the width it reads first and the width it produces second.");
                Expect(qIn == dec, $"{widths}: the query projection reads width {qIn}, {Where(qIn)}; queries come from the decoder.");
                Expect(kIn == enc, $"{widths}: the key projection reads width {kIn}, {Where(kIn)}; keys come from the encoder.");
                Expect(vIn == enc, $"{widths}: the value projection reads width {vIn}, {Where(vIn)}; values come from the encoder.");
                Expect(qOut == kOut, $"{widths}: queries come out with {qOut} numbers and keys with {kOut}; a query and a key meet in a dot product, so they need the same width.");
                Expect(qOut == dK, $"{widths}: queries and keys come out with {qOut} numbers instead of d_k = {dK}.");
                Expect(vOut == dV, $"{widths}: values come out with {vOut} numbers instead of d_v = {dV}.");
                Expect(pq.bias is null && pk.bias is null && pv.bias is null, $"{widths}: a projection has a bias; W_Q, W_K and W_V are plain matrices (hasBias: false).");
                var decoder = randn([2, 5, dec], generator: generator);
                var encoder = randn([2, 8, enc], generator: generator);
                using var result = Attention.ScaledDotProductAttention.Compute(pq.forward(decoder), pk.forward(encoder), pv.forward(encoder));
                Expect(result.Weights.shape.SequenceEqual(new long[] { 2, 5, 8 }) && result.Output.shape.SequenceEqual(new long[] { 2, 5, dV }),
                    $"{widths}: cross-attention gives weights {Guard.Shape(result.Weights)} and output {Guard.Shape(result.Output)}.");
            }
        });
}
