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
        return (c.ShareEmbeddings ? 1 : 3) * c.VocabSize * d + c.EncoderLayers * Encoder(d, f) + c.DecoderLayers * decoder + 2 * 2 * d;
    }

    [Fact]
    public void Count_reference_passes() => Assert.True(Lesson10.ParameterCount(Reference).Passed);

    [Fact]
    public void Count_placeholder_names_the_missing_decoder()
    {
        var placeholder = Lesson10.ParameterCount(_ => throw new NotImplementedException());
        Assert.False(placeholder.Passed);
        Assert.Contains("NotImplementedException", placeholder.Feedback);
        var verdict = Lesson10.ParameterCount(c => Reference(c) - c.DecoderLayers * (Encoder(c.Width, c.FeedForwardWidth) + 4L * c.Width * c.Width + 6L * c.Width));
        Assert.False(verdict.Passed);
        Assert.Contains("decoder layers are missing", verdict.Feedback);
    }

    [Fact]
    public void Decoder_counted_as_encoder_is_named()
    {
        var verdict = Lesson10.ParameterCount(c => Reference(c) - c.DecoderLayers * (4L * c.Width * c.Width + 6L * c.Width));
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
    public void Ignoring_share_embeddings_is_named()
    {
        var verdict = Lesson10.ParameterCount(c => Reference(c with { ShareEmbeddings = true }));
        Assert.False(verdict.Passed);
        Assert.Contains("ShareEmbeddings is false", verdict.Feedback);
    }

    [Fact]
    public void The_post_ln_count_of_the_lesson_is_named_as_missing_final_norms()
    {
        var verdict = Lesson10.ParameterCount(c => Reference(c) - 4L * c.Width);
        Assert.False(verdict.Passed);
        Assert.Contains("final LayerNorm", verdict.Feedback);
    }

    [Fact]
    public void Encoder_layers_for_both_stacks_is_named()
    {
        var verdict = Lesson10.ParameterCount(c => Reference(c with { DecoderLayers = c.EncoderLayers }));
        Assert.False(verdict.Passed);
        Assert.Contains("config.EncoderLayers for both stacks", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_count_is_forbidden()
    {
        var verdict = Lesson10.ParameterCount(EncoderDecoderTransformer.ClosedFormParameterCount);
        Assert.False(verdict.Passed);
        Assert.Contains("ClosedFormParameterCount", verdict.Feedback);
        var module = Lesson10.ParameterCount(c => new EncoderDecoderTransformer(c).parameters().Sum(p => p.NumberOfElements));
        Assert.False(module.Passed);
        Assert.Contains("EncoderDecoderTransformer.new", module.Feedback);
        var helpers = Lesson10.ParameterCount(c => (c.ShareEmbeddings ? 1 : 3) * c.VocabSize * (long)c.Width + 4L * c.Width
            + c.EncoderLayers * EncoderBlock.ParameterCount(c)
            + c.DecoderLayers * (EncoderBlock.ParameterCount(c) + MultiHeadAttention.ParameterCount(c.Width) + 2L * c.Width));
        Assert.False(helpers.Passed);
        Assert.Contains("EncoderBlock.ParameterCount", helpers.Feedback);
    }

    static Tensor ReferenceMask(Tensor source, Tensor target, long pad) =>
        source.ne(pad).unsqueeze(1).expand(source.shape[0], target.shape[1], source.shape[1]);

    [Fact]
    public void Mask_reference_passes() => Assert.True(Lesson10.CrossMask(ReferenceMask).Passed);

    [Fact]
    public void The_unexpanded_library_shape_is_named()
    {
        var verdict = Lesson10.CrossMask((s, t, pad) => s.ne(pad).unsqueeze(1));
        Assert.False(verdict.Passed);
        Assert.Contains("broadcastable (B, 1, L_s)", verdict.Feedback);
    }

    [Fact]
    public void Mask_placeholder_is_not_yet()
    {
        var verdict = Lesson10.CrossMask((_, _, _) => throw new NotImplementedException());
        Assert.False(verdict.Passed);
        Assert.Contains("NotImplementedException", verdict.Feedback);
    }

    [Fact]
    public void A_causal_cross_mask_is_named()
    {
        var verdict = Lesson10.CrossMask((s, t, pad) => ReferenceMask(s, t, pad).logical_and(ones(t.shape[1], s.shape[1], dtype: ScalarType.Bool).tril()));
        Assert.False(verdict.Passed);
        Assert.Contains("causal", verdict.Feedback);
    }

    [Fact]
    public void The_target_self_attention_shape_is_named()
    {
        var verdict = Lesson10.CrossMask((s, t, pad) => Masks.Causal(t.shape[1]).unsqueeze(0).logical_and(t.ne(pad).unsqueeze(1)));
        Assert.False(verdict.Passed);
        Assert.Contains("target length on both axes", verdict.Feedback);
    }

    [Fact]
    public void Hiding_padded_target_rows_is_named()
    {
        var verdict = Lesson10.CrossMask((s, t, pad) => ReferenceMask(s, t, pad).logical_and(t.ne(pad).unsqueeze(2)));
        Assert.False(verdict.Passed);
        Assert.Contains("padded *target* positions", verdict.Feedback);
    }

    [Fact]
    public void A_hard_coded_pad_id_fails()
    {
        var verdict = Lesson10.CrossMask((s, t, _) => ReferenceMask(s, t, 0));
        Assert.False(verdict.Passed);
        Assert.Contains("padding", verdict.Feedback);
    }

    [Fact]
    public void Comparing_ids_by_order_instead_of_equality_is_named()
    {
        var verdict = Lesson10.CrossMask((s, t, pad) => s.gt(pad).unsqueeze(1).expand(s.shape[0], t.shape[1], s.shape[1]));
        Assert.False(verdict.Passed);
        Assert.Contains("below the pad id", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_masks_is_forbidden()
    {
        var library = Lesson10.CrossMask((s, t, pad) => Seq2SeqMasks.Source(s, pad).expand(s.shape[0], t.shape[1], s.shape[1]));
        Assert.False(library.Passed);
        Assert.Contains("Seq2SeqMasks.Source", library.Feedback);
        var lesson4 = Lesson10.CrossMask((s, t, pad) => Masks.FromPadToken(s, pad).expand(s.shape[0], t.shape[1], s.shape[1]));
        Assert.False(lesson4.Passed);
        Assert.Contains("Masks.FromPadToken", lesson4.Feedback);
    }
}
