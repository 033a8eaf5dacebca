using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 13's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson13ExerciseTests : TorchTest
{
    delegate long Corrupt(long id, long maskId, int ordinary, Random random);

    /// <summary>A masking function: choose with probability <paramref name="rate"/> among the allowed positions
    /// (<paramref name="ignoreMaskable"/>: any position), corrupt with <paramref name="corrupt"/>, label as <paramref name="label"/> says.</summary>
    static Func<long[], bool[], long, int, Random, (long[], long[])> Masker(double rate, Corrupt corrupt, bool ignoreMaskable = false,
        Func<long, long, long>? label = null) => (ids, maskable, maskId, ordinary, random) =>
    {
        var inputs = (long[])ids.Clone();
        var labels = Enumerable.Repeat(-100L, ids.Length).ToArray();
        for (int i = 0; i < ids.Length; i++)
        {
            if ((!maskable[i] && !ignoreMaskable) || random.NextDouble() >= rate) continue;
            inputs[i] = corrupt(ids[i], maskId, ordinary, random);
            labels[i] = label is null ? ids[i] : label(ids[i], inputs[i]);
        }
        return (inputs, labels);
    };

    static long Bert(long id, long maskId, int ordinary, Random random)
    {
        double a = random.NextDouble();
        return a < 0.8 ? maskId : a < 0.9 ? random.Next(ordinary) : id;
    }

    [Fact]
    public void Mask_reference_passes() => Assert.True(Lesson13.MaskTokens(Masker(0.15, Bert)).Passed);

    [Fact]
    public void Mask_placeholder_fails_saying_nothing_is_chosen()
    {
        var verdict = Lesson13.MaskTokens((ids, _, _, _, _) => ((long[])ids.Clone(), Enumerable.Repeat(-100L, ids.Length).ToArray()));
        Assert.False(verdict.Passed);
        Assert.Contains("no position is ever chosen", verdict.Feedback);
    }

    [Fact]
    public void Masking_special_tokens_is_named()
    {
        var verdict = Lesson13.MaskTokens(Masker(0.15, Bert, ignoreMaskable: true));
        Assert.False(verdict.Passed);
        Assert.Contains("special tokens and padding are never masked", verdict.Feedback);
    }

    [Fact]
    public void Always_masking_is_named()
    {
        var verdict = Lesson13.MaskTokens(Masker(0.15, (_, maskId, _, _) => maskId));
        Assert.False(verdict.Passed);
        Assert.Contains("every chosen position became [MASK]", verdict.Feedback);
    }

    [Fact]
    public void The_10_percent_taken_of_the_remainder_is_named()
    {
        // A second draw compared with 0.1 after the 80 % branch: 2 % random instead of 10 %.
        var verdict = Lesson13.MaskTokens(Masker(0.15, (id, maskId, ordinary, random) =>
            random.NextDouble() < 0.8 ? maskId : random.NextDouble() < 0.1 ? random.Next(ordinary) : id));
        Assert.False(verdict.Passed);
        Assert.Contains("applied to the 20 % left after [MASK]", verdict.Feedback);
    }

    [Fact]
    public void A_mask_id_as_label_is_named()
    {
        var verdict = Lesson13.MaskTokens(Masker(0.15, (_, maskId, _, _) => maskId, label: (_, input) => input));
        Assert.False(verdict.Passed);
        Assert.Contains("the label is the original token", verdict.Feedback);
    }

    [Fact]
    public void A_wrong_rate_is_named()
    {
        var verdict = Lesson13.MaskTokens(Masker(0.10, Bert));
        Assert.False(verdict.Passed);
        Assert.Contains("not 15 %", verdict.Feedback);
    }

    [Fact]
    public void Random_replacements_that_can_be_special_tokens_are_named()
    {
        var verdict = Lesson13.MaskTokens(Masker(0.15, (id, maskId, ordinary, random) =>
        {
            double a = random.NextDouble();
            return a < 0.8 ? maskId : a < 0.9 ? random.Next(ordinary + 4) : id;
        }));
        Assert.False(verdict.Passed);
        Assert.Contains("never a special token", verdict.Feedback);
    }

    [Fact]
    public void Tied_reference_passes() => Assert.True(Lesson13.TiedOutput((h, e, b) => h.matmul(e.t()) + b).Passed);

    [Fact]
    public void Tied_placeholder_fails_saying_zeros()
    {
        var verdict = Lesson13.TiedOutput((h, e, _) => zeros(h.shape[0], e.shape[0]));
        Assert.False(verdict.Passed);
        Assert.Contains("placeholder", verdict.Feedback);
    }

    [Fact]
    public void A_missing_bias_is_named()
    {
        var verdict = Lesson13.TiedOutput((h, e, _) => h.matmul(e.t()));
        Assert.False(verdict.Passed);
        Assert.Contains("bias is missing", verdict.Feedback);
    }

    [Fact]
    public void Probabilities_instead_of_logits_are_named()
    {
        var verdict = Lesson13.TiedOutput((h, e, b) => nn.functional.softmax(h.matmul(e.t()) + b, -1));
        Assert.False(verdict.Passed);
        Assert.Contains("probabilities", verdict.Feedback);
    }

    [Fact]
    public void A_detached_table_is_named_as_untied()
    {
        var verdict = Lesson13.TiedOutput((h, e, b) => h.matmul(e.detach().t()) + b);
        Assert.False(verdict.Passed);
        Assert.Contains("not tied", verdict.Feedback);
    }

    [Fact]
    public void A_wrong_shape_is_named()
    {
        var verdict = Lesson13.TiedOutput((h, e, b) => e.matmul(h.t()));
        Assert.False(verdict.Passed);
        Assert.Contains("one score per vocabulary token", verdict.Feedback);
    }

    [Fact]
    public void Drawing_from_a_new_random_is_named()
    {
        var fresh = Masker(0.15, Bert);
        var verdict = Lesson13.MaskTokens((ids, m, k, o, _) => fresh(ids, m, k, o, new Random()));
        Assert.False(verdict.Passed);
        Assert.Contains("not from a new Random", verdict.Feedback);
    }

    [Fact]
    public void A_detached_bias_is_named()
    {
        var verdict = Lesson13.TiedOutput((h, e, b) => h.matmul(e.t()) + b.detach());
        Assert.False(verdict.Passed);
        Assert.Contains("no gradient reaches the bias", verdict.Feedback);
    }
}
