using TorchSharp;
using TransformerCourse.Transformer;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace TransformerCourse.Tests.Library;

public class EncoderDecoderTransformerTests(ITestOutputHelper output) : TorchTest
{
    static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    static TransformerConfig Small => new(VocabSize: 13, Width: 16, Heads: 4, FeedForwardWidth: 32, EncoderLayers: 2, DecoderLayers: 2,
        Dropout: 0.0, MaxLength: 20);

    [Fact]
    public void Base_model_parameter_count_equals_the_closed_form()
    {
        var config = TransformerConfig.Base();
        long closedForm = EncoderDecoderTransformer.ClosedFormParameterCount(config);
        using var model = new EncoderDecoderTransformer(config);
        output.WriteLine($"base model: {model.ParameterCount:N0} parameters counted, {closedForm:N0} closed form (≈ {closedForm / 1e6:F1}M; paper: 65M)");
        Assert.Equal(closedForm, model.ParameterCount);
        Assert.Equal(63_082_496, closedForm);
        Assert.Equal(63.1, Math.Round(closedForm / 1e6, 1));
        // Embeddings 37,000·512; encoder 6·3,152,384; decoder 6·4,204,032.
        Assert.Equal(37_000L * 512 + 6 * 3_152_384L + 6 * 4_204_032L, closedForm);
        // Sinusoidal positions are a buffer, not a parameter; it follows the model to another dtype or device.
        Assert.Equal(["positional_encoding"], model.named_buffers().Select(b => b.name).ToArray());
    }

    [Theory]
    [InlineData(true, NormPlacement.Post, FeedForwardKind.Relu)]
    [InlineData(false, NormPlacement.Pre, FeedForwardKind.SwiGlu)]
    [InlineData(true, NormPlacement.None, FeedForwardKind.Gelu)]
    public void Closed_form_holds_for_every_variant(bool share, NormPlacement norm, FeedForwardKind ffn)
    {
        var config = Small with { ShareEmbeddings = share, Norm = norm, FeedForward = ffn, DecoderLayers = 3 };
        using var model = new EncoderDecoderTransformer(config);
        Assert.Equal(EncoderDecoderTransformer.ClosedFormParameterCount(config), model.ParameterCount);
    }

    [Fact]
    public void Decoder_block_is_causal_and_reads_only_real_memory()
    {
        using var noGrad = no_grad();
        var block = new DecoderBlock(16, 4, 32);
        Assert.Equal(2 * MultiHeadAttention.ParameterCount(16) + PositionwiseFeedForward.ParameterCount(FeedForwardKind.Relu, 16, 32) + 6 * 16,
            block.parameters().Sum(p => p.NumberOfElements));
        var (x, memory) = (randn(1, 4, 16), randn(1, 5, 16));
        var sourceMask = Attention.Masks.Padding([3], 5);
        var targetMask = Attention.Masks.Causal(4);
        var (y, self, cross) = block.ForwardWithAttention(x, memory, sourceMask, targetMask);
        Assert.Equal(new long[] { 1, 4, 4, 4 }, self.shape);
        Assert.Equal(new long[] { 1, 4, 4, 5 }, cross.shape);
        var changed = (x.clone(), memory.clone());
        changed.Item1[0, 3] = randn(16);
        changed.Item2[0, 3..] = randn(2, 16);
        var z = block.forward(changed.Item1, changed.Item2, sourceMask, targetMask);
        Assert.True(MaxDiff(y[0, ..3], z[0, ..3]) < 1e-5);
        Assert.Equal(0f, cross[.., .., .., 3..].abs().sum().item<float>());
    }

    [Fact]
    public void Forward_equals_encode_then_decode_and_respects_both_masks()
    {
        using var noGrad = no_grad();
        var model = new EncoderDecoderTransformer(Small);
        model.eval();
        var src = tensor(new long[] { 5, 6, 7, 8, 0, 0, 9, 10, 11, 12, 4, 3 }, [2, 6]);
        var tgt = tensor(new long[] { 1, 4, 5, 6, 1, 7, 8, 9 }, [2, 4]);
        var (srcMask, tgtMask) = (Seq2SeqMasks.Source(src, 0), Seq2SeqMasks.Target(tgt, 0));
        Assert.Equal(new long[] { 2, 1, 6 }, srcMask.shape);
        Assert.Equal(new long[] { 2, 4, 4 }, tgtMask.shape);
        var logits = model.forward(src, tgt, srcMask, tgtMask);
        Assert.Equal(new long[] { 2, 4, 13 }, logits.shape);
        var memory = model.Encode(src, srcMask);
        Assert.Equal(new long[] { 2, 6, 16 }, memory.shape);
        Assert.True(MaxDiff(model.Decode(tgt, memory, srcMask, tgtMask), logits) < 1e-6);
        // Causal: position t never sees target tokens after t.
        var later = tgt.clone();
        later[.., 3] = 2;
        Assert.True(MaxDiff(model.forward(src, later, srcMask, tgtMask)[.., ..3], logits[.., ..3]) < 1e-5);
        // With shared embeddings the output layer is the embedding matrix: logits = h·Eᵀ.
        Assert.DoesNotContain(model.named_parameters(), p => p.name.Contains("generator"));
    }

    [Fact]
    public void Padded_source_tokens_do_not_change_the_output()
    {
        using var noGrad = no_grad();
        var model = new EncoderDecoderTransformer(Small with { Norm = NormPlacement.Pre });
        model.eval();
        var src = tensor(new long[] { 5, 6, 7, 0, 0 }, [1, 5]);
        var tgt = tensor(new long[] { 1, 4, 5 }, [1, 3]);
        var shorter = tensor(new long[] { 5, 6, 7 }, [1, 3]);
        var a = model.forward(src, tgt, Seq2SeqMasks.Source(src, 0), Seq2SeqMasks.Target(tgt, 0));
        var b = model.forward(shorter, tgt, Seq2SeqMasks.Source(shorter, 0), Seq2SeqMasks.Target(tgt, 0));
        Assert.True(MaxDiff(a, b) < 1e-5);
    }

    [Fact]
    public void Decode_with_attention_returns_every_layers_weights()
    {
        using var noGrad = no_grad();
        var model = new EncoderDecoderTransformer(Small with { DecoderLayers = 3 });
        model.eval();
        var src = tensor(new long[] { 5, 6, 7, 0, 9, 10, 11, 12 }, [2, 4]);
        var tgt = tensor(new long[] { 1, 4, 5, 1, 7, 8 }, [2, 3]);
        var (srcMask, tgtMask) = (Seq2SeqMasks.Source(src, 0), Seq2SeqMasks.Target(tgt, 0));
        var memory = model.Encode(src, srcMask);
        using var trace = model.DecodeWithAttention(tgt, memory, srcMask, tgtMask);
        Assert.True(MaxDiff(trace.Logits, model.Decode(tgt, memory, srcMask, tgtMask)) < 1e-6);
        Assert.Equal(3, trace.CrossAttention.Count);
        Assert.Equal(new long[] { 2, 4, 3, 4 }, trace.CrossAttention[0].shape);
        Assert.Equal(new long[] { 2, 4, 3, 3 }, trace.SelfAttention[2].shape);
        Assert.True(MaxDiff(trace.CrossAttention[1].sum(-1), ones(2, 4, 3)) < 1e-5);
        Assert.Equal(0f, trace.CrossAttention[0][0, .., .., 3].abs().sum().item<float>());
        Assert.Equal(0f, trace.SelfAttention[0].triu(1).abs().sum().item<float>());
    }

    [Fact]
    public void Embeddings_are_scaled_by_the_square_root_of_the_width()
    {
        using var noGrad = no_grad();
        var config = Small with { EncoderLayers = 1, DecoderLayers = 1 };
        var model = new EncoderDecoderTransformer(config);
        var embedding = model.named_parameters().Single(p => p.name == "embedding.weight").parameter;
        // Initialised N(0, 1/d) so the scaled embedding has unit variance.
        Assert.InRange(embedding.std().item<float>() * Math.Sqrt(16), 0.8, 1.2);
    }

    [Fact]
    public void Positions_follow_the_model_to_another_dtype()
    {
        var model = new EncoderDecoderTransformer(Small);
        model.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, model.get_buffer("positional_encoding")!.dtype);
        var logits = model.forward(tensor(new long[] { 5, 6 }, [1, 2]), tensor(new long[] { 1, 4 }, [1, 2]));
        Assert.Equal(ScalarType.Float64, logits.dtype);
    }

    [Fact]
    public void Bad_input_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new EncoderDecoderTransformer(Small with { Width = 18 }));
        Assert.Equal("Width", e.ParamName);
        Assert.Contains("18", e.Message);
        e = Assert.Throws<ArgumentException>(() => new EncoderDecoderTransformer(Small with { DecoderLayers = 0 }));
        Assert.Equal("DecoderLayers", e.ParamName);
        var model = new EncoderDecoderTransformer(Small);
        e = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 3, dtype: ScalarType.Int64), zeros(1, 21, dtype: ScalarType.Int64)));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("MaxLength 20", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.Decode(zeros(2, 3, dtype: ScalarType.Int64), zeros(1, 3, 16)));
        Assert.Equal("memory", e.ParamName);
        Assert.Contains("[1, 3, 16]", e.Message);
    }
}
