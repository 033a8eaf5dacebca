using TorchSharp.Modules;
using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 3's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson03ExerciseTests : TorchTest
{
    static void NotYet(Verdict verdict, string diagnosis)
    {
        Assert.False(verdict.Passed, verdict.Feedback);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    static Func<Tensor, Tensor, Tensor, double, Tensor> Kernel(Func<Tensor, double, Tensor> score, int dim = -1) => (trainX, trainY, queryX, h) =>
    {
        var diff = queryX.unsqueeze(1) - trainX.unsqueeze(0);
        return score(diff, h).softmax(dim).matmul(trainY);
    };

    [Fact]
    public void Kernel_reference_passes() =>
        Assert.True(Lesson03.KernelRegression(Kernel((d, h) => -(d * d) / (2 * h * h))).Passed);

    [Fact]
    public void Kernel_placeholder_fails() =>
        NotYet(Lesson03.KernelRegression((x, y, q, h) => zeros_like(q)), "placeholder");

    [Fact]
    public void Kernel_softmax_over_the_queries_is_named() =>
        NotYet(Lesson03.KernelRegression(Kernel((d, h) => -(d * d) / (2 * h * h), dim: 0)), "over the queries");

    [Fact]
    public void Kernel_without_the_minus_sign_is_named() =>
        NotYet(Lesson03.KernelRegression(Kernel((d, h) => d * d / (2 * h * h))), "farthest");

    [Fact]
    public void Kernel_forgetting_the_2_is_named() =>
        NotYet(Lesson03.KernelRegression(Kernel((d, h) => -(d * d) / (h * h))), "different bandwidth");

    [Fact]
    public void Kernel_with_h_instead_of_h_squared_is_named() =>
        NotYet(Lesson03.KernelRegression(Kernel((d, h) => -(d * d) / (2 * h))), "different bandwidth");

    [Fact]
    public void Kernel_calling_the_library_is_refused() =>
        NotYet(Lesson03.KernelRegression((x, y, q, h) => NadarayaWatson.Predict(x, y, q, h).Output), "calls NadarayaWatson.Predict");

    [Fact]
    public void Kernel_through_attention_is_refused() =>
        NotYet(Lesson03.KernelRegression((x, y, q, h) =>
            ScaledDotProductAttention.Compute(stack([q, ones_like(q)], dim: 1), stack([x / (h * h), -(x * x) / (2 * h * h)], dim: 1), y.unsqueeze(1), scale: 1.0).Output.squeeze(1)),
            "calls ScaledDotProductAttention.Compute");

    static (Linear, Linear, Linear) Projections(long qIn, long qOut, long kIn, long kOut, long vIn, long vOut, bool bias = false) =>
        (nn.Linear(qIn, qOut, hasBias: bias), nn.Linear(kIn, kOut, hasBias: bias), nn.Linear(vIn, vOut, hasBias: bias));

    [Fact]
    public void Projections_reference_passes() =>
        Assert.True(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(dec, dk, enc, dk, enc, dv)).Passed);

    [Fact]
    public void Projections_placeholder_fails() =>
        NotYet(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(1, 1, 1, 1, 1, 1)), "still the 1 → 1 placeholders");

    [Fact]
    public void Square_projections_keeping_each_width_are_named() =>
        NotYet(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(dec, dec, enc, enc, enc, enc)), "need the same width");

    [Fact]
    public void Swapped_linear_arguments_are_named() =>
        NotYet(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(dk, dec, dk, enc, dv, enc)), "wrong way round");

    [Fact]
    public void Only_the_query_projection_filled_in_is_named() =>
        NotYet(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(dec, dk, 1, 1, 1, 1)), "the key projection reads width 1, neither sequence's");

    [Fact]
    public void Keys_reading_the_decoder_is_named() =>
        NotYet(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(dec, dk, dec, dk, enc, dv)), "keys come from the encoder");

    [Fact]
    public void Queries_reading_the_encoder_is_named() =>
        NotYet(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(enc, dk, enc, dk, enc, dv)), "queries come from the decoder");

    [Fact]
    public void Values_with_d_k_is_named() =>
        NotYet(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(dec, dk, enc, dk, enc, dk)), "instead of d_v");

    [Fact]
    public void Hard_coded_widths_fail() =>
        NotYet(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(32, 16, 48, 16, 48, 24)), "decoder width 10");

    [Fact]
    public void Projections_with_bias_are_named() =>
        NotYet(Lesson03.CrossProjections((dec, enc, dk, dv) => Projections(dec, dk, enc, dk, enc, dv, bias: true)), "bias");
}
