using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 10's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson10ExerciseTests : TorchTest
{
    static long Encoder(long d, long f) => 4 * d * d + 4 * d + 2 * d * f + f + d + 2 * 2 * d;

    static long Reference(TransformerConfig c)
    {
        long d = c.Width, f = c.FeedForwardWidth;
        long decoder = Encoder(d, f) + 4 * d * d + 4 * d + 2 * d;
        return c.VocabSize * d + c.EncoderLayers * Encoder(d, f) + c.DecoderLayers * decoder;
    }

    [Fact]
    public void Count_reference_passes() => Assert.True(Lesson10.ParameterCount(Reference).Passed);

    [Fact]
    public void Count_placeholder_names_the_missing_decoder()
    {
        var verdict = Lesson10.ParameterCount(c => c.VocabSize * (long)c.Width + c.EncoderLayers * Encoder(c.Width, c.FeedForwardWidth));
        Assert.False(verdict.Passed);
        Assert.Contains("decoder layers are missing", verdict.Feedback);
    }

    [Fact]
    public void Decoder_counted_as_encoder_is_named()
    {
        var verdict = Lesson10.ParameterCount(c => c.VocabSize * (long)c.Width + (c.EncoderLayers + c.DecoderLayers) * Encoder(c.Width, c.FeedForwardWidth));
        Assert.False(verdict.Passed);
        Assert.Contains("cross-attention and its LayerNorm are missing", verdict.Feedback);
    }

    [Fact]
    public void Missing_third_layer_norm_is_named()
    {
        var verdict = Lesson10.ParameterCount(c => Reference(c) - c.DecoderLayers * 2L * c.Width);
        Assert.False(verdict.Passed);
        Assert.Contains("2d short", verdict.Feedback);
    }

    [Fact]
    public void Unshared_embeddings_are_named()
    {
        var verdict = Lesson10.ParameterCount(c => Reference(c) + 2L * c.VocabSize * c.Width);
        Assert.False(verdict.Passed);
        Assert.Contains("shares one embedding matrix", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_count_is_forbidden()
    {
        var verdict = Lesson10.ParameterCount(EncoderDecoderTransformer.ClosedFormParameterCount);
        Assert.False(verdict.Passed);
        Assert.Contains("ClosedFormParameterCount", verdict.Feedback);
        Assert.False(Lesson10.ParameterCount(c => new EncoderDecoderTransformer(c).ParameterCount).Passed);
    }

    static Tensor ReferenceMask(Tensor ids, long pad) =>
        Masks.Causal(ids.shape[1], ids.device).unsqueeze(0).logical_and(ids.ne(pad).unsqueeze(1));

    [Fact]
    public void Mask_reference_passes() => Assert.True(Lesson10.TargetMask(ReferenceMask).Passed);

    [Fact]
    public void Mask_placeholder_is_named()
    {
        var verdict = Lesson10.TargetMask((ids, _) => ones(ids.shape[0], ids.shape[1], ids.shape[1], dtype: ScalarType.Bool));
        Assert.False(verdict.Passed);
        Assert.Contains("future", verdict.Feedback);
    }

    [Fact]
    public void Causal_only_is_named()
    {
        var verdict = Lesson10.TargetMask((ids, _) => Masks.Causal(ids.shape[1]).unsqueeze(0).expand(ids.shape[0], -1, -1));
        Assert.False(verdict.Passed);
        Assert.Contains("padding condition is missing", verdict.Feedback);
    }

    [Fact]
    public void Padding_on_the_query_axis_is_named()
    {
        var verdict = Lesson10.TargetMask((ids, pad) => Masks.Causal(ids.shape[1]).unsqueeze(0).logical_and(ids.ne(pad).unsqueeze(2)));
        Assert.False(verdict.Passed);
        Assert.Contains("padding *queries*", verdict.Feedback);
    }

    [Fact]
    public void A_hard_coded_pad_id_fails()
    {
        var verdict = Lesson10.TargetMask((ids, _) => ReferenceMask(ids, 0));
        Assert.False(verdict.Passed);
        Assert.Contains("padding", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_mask_is_forbidden()
    {
        var verdict = Lesson10.TargetMask(Seq2SeqMasks.Target);
        Assert.False(verdict.Passed);
        Assert.Contains("Seq2SeqMasks.Target", verdict.Feedback);
    }
}
