using TransformerCourse.Attention;
using TransformerCourse.Data;
using TransformerCourse.Exercises;
using TransformerCourse.Generation;
using TransformerCourse.Tests.Library;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 11's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson11ExerciseTests : TorchTest
{
    // Pad gets no mass, the correct token 1 − ε, the other V − 2 tokens ε/(V − 2): the floor is the entropy of that q.
    static double Floor(int v, double e) => -(1 - e) * Math.Log(1 - e) - e * Math.Log(e / (v - 2));

    [Fact]
    public void Floor_reference_passes() => Assert.True(Lesson11.SmoothedLossFloor(Floor).Passed);

    [Fact]
    public void Floor_placeholder_is_not_yet()
    {
        var verdict = Lesson11.SmoothedLossFloor((_, _) => throw new NotImplementedException());
        Assert.False(verdict.Passed);
        Assert.Contains("NotImplementedException", verdict.Feedback);
        var zero = Lesson11.SmoothedLossFloor((_, _) => 0.0);
        Assert.Contains("plain cross-entropy", zero.Feedback);
    }

    [Fact]
    public void A_numeric_minimisation_passes_at_the_loosened_tolerance() =>
        Assert.True(Lesson11.SmoothedLossFloor((v, e) => Floor(v, e) + 3e-7).Passed);

    [Fact]
    public void The_lessons_own_floor_is_named()
    {
        var verdict = Lesson11.SmoothedLossFloor((v, e) => { double top = 1 - e + e / v, rest = e / v; return -top * Math.Log(top) - (v - 1) * rest * Math.Log(rest); });
        Assert.False(verdict.Passed);
        Assert.Contains("the lesson's q", verdict.Feedback);
    }

    [Fact]
    public void Floor_that_still_gives_pad_a_share_is_named()
    {
        var verdict = Lesson11.SmoothedLossFloor((v, e) => -(1 - e) * Math.Log(1 - e) - e * Math.Log(e / (v - 1)));
        Assert.False(verdict.Passed);
        Assert.Contains("pad still gets a share", verdict.Feedback);
    }

    [Fact]
    public void Floor_of_the_correct_token_alone_is_named()
    {
        var verdict = Lesson11.SmoothedLossFloor((_, e) => -Math.Log(1 - e));
        Assert.False(verdict.Passed);
        Assert.Contains("only the correct token's term", verdict.Feedback);
    }

    [Fact]
    public void Floor_in_bits_is_named()
    {
        var verdict = Lesson11.SmoothedLossFloor((v, e) => Floor(v, e) / Math.Log(2));
        Assert.False(verdict.Passed);
        Assert.Contains("bits", verdict.Feedback);
    }

    static readonly SyntheticTranslation Task = new(seed: 0);

    static EncoderDecoderTransformer Model()
    {
        manual_seed(5);
        var model = new EncoderDecoderTransformer(new TransformerConfig(Task.Vocabulary.Count, Width: 32, Heads: 4, FeedForwardWidth: 64,
            EncoderLayers: 2, DecoderLayers: 2, MaxLength: 32));
        model.eval();
        return model;
    }

    static long[] Decode(EncoderDecoderTransformer model, long[] sourceIds, int maxLength, bool encodeOnce = true, bool causal = true, bool keepBos = false, bool sourceMasked = true)
    {
        using var noGrad = no_grad();
        var special = Task.Vocabulary.Special;
        var source = tensor(sourceIds, [1, sourceIds.Length]);
        var sourceMask = sourceMasked ? Seq2SeqMasks.Source(source, special.Pad) : null;
        var memory = model.Encode(source, sourceMask);
        var generated = new List<long> { special.Bos };
        for (int t = 0; t < maxLength; t++)
        {
            if (!encodeOnce) memory = model.Encode(source, sourceMask);
            var prefix = tensor(generated.ToArray(), [1, generated.Count]);
            var logits = model.Decode(prefix, memory, sourceMask, causal ? Masks.Causal(generated.Count) : null);
            long next = logits[0, -1].argmax().item<long>();
            if (next == special.Eos) break;
            generated.Add(next);
        }
        return keepBos ? [.. generated] : [.. generated.Skip(1)];
    }

    [Fact]
    public void Greedy_reference_passes()
    {
        using var model = Model();
        Assert.True(Lesson11.Greedy((m, s, n) => Decode(m, s, n), model, Task).Passed);
    }

    [Fact]
    public void Greedy_placeholder_is_named()
    {
        using var model = Model();
        var verdict = Lesson11.Greedy((_, _, _) => [], model, Task);
        Assert.False(verdict.Passed);
        Assert.Contains("no tokens", verdict.Feedback);
    }

    [Fact]
    public void Greedy_without_the_causal_mask_is_named()
    {
        using var model = Model();
        var verdict = Lesson11.Greedy((m, s, n) => Decode(m, s, n, causal: false), model, Task);
        Assert.False(verdict.Passed);
        Assert.Contains("without the causal mask", verdict.Feedback);
    }

    [Fact]
    public void Greedy_without_the_source_mask_is_named()
    {
        using var model = Model();
        var verdict = Lesson11.Greedy((m, s, n) => Decode(m, s, n, sourceMasked: false), model, Task);
        Assert.False(verdict.Passed);
        Assert.Contains("padded source positions are not masked", verdict.Feedback);
    }

    [Fact]
    public void Greedy_that_re_encodes_every_step_is_named()
    {
        using var model = Model();
        var verdict = Lesson11.Greedy((m, s, n) => Decode(m, s, n, encodeOnce: false), model, Task);
        Assert.False(verdict.Passed);
        Assert.Contains("encode it once", verdict.Feedback);
    }

    [Fact]
    public void Greedy_that_keeps_bos_is_named()
    {
        using var model = Model();
        var verdict = Lesson11.Greedy((m, s, n) => Decode(m, s, n, keepBos: true), model, Task);
        Assert.False(verdict.Passed);
        Assert.Contains("<bos>", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_greedy_is_forbidden()
    {
        using var model = Model();
        var verdict = Lesson11.Greedy((m, s, n) => Seq2SeqDecoding.Greedy(m, tensor(s, [1, s.Length]), Task.Vocabulary.Special, n)[0].Tokens, model, Task);
        Assert.False(verdict.Passed);
        Assert.Contains("Seq2SeqDecoding.Greedy", verdict.Feedback);
    }
}
