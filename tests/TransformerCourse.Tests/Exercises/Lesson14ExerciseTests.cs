using TransformerCourse.Exercises;
using TransformerCourse.FineTuning;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 14's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson14ExerciseTests : TorchTest
{
    static (int[] Tokens, int[] Labels) Align(List<int[]> pieces, int[] labels, Func<int, int, int, int> label)
    {
        var tokens = new List<int>();
        var result = new List<int>();
        for (int w = 0; w < pieces.Count; w++)
            for (int p = 0; p < pieces[w].Length; p++)
            {
                tokens.Add(pieces[w][p]);
                result.Add(label(labels[w], p, pieces[w].Length));
            }
        return ([.. tokens], [.. result]);
    }

    [Fact]
    public void Align_reference_passes() =>
        Assert.True(Lesson14.AlignLabels((p, l) => Align(p, l, (y, i, n) => i == 0 ? y : -100)).Passed);

    [Fact]
    public void Align_placeholder_fails_saying_the_tokens_are_missing()
    {
        var verdict = Lesson14.AlignLabels((_, _) => ([], []));
        Assert.False(verdict.Passed);
        Assert.Contains("keep every piece of every word", verdict.Feedback);
    }

    [Fact]
    public void Labelling_every_piece_is_named()
    {
        var verdict = Lesson14.AlignLabels((p, l) => Align(p, l, (y, i, n) => y));
        Assert.False(verdict.Passed);
        Assert.Contains("every piece repeats its word's label", verdict.Feedback);
    }

    [Fact]
    public void Labelling_the_last_piece_is_named()
    {
        var verdict = Lesson14.AlignLabels((p, l) => Align(p, l, (y, i, n) => i == n - 1 ? y : -100));
        Assert.False(verdict.Passed);
        Assert.Contains("last piece", verdict.Feedback);
    }

    [Fact]
    public void Zero_instead_of_the_ignore_index_is_named()
    {
        var verdict = Lesson14.AlignLabels((p, l) => Align(p, l, (y, i, n) => i == 0 ? y : 0));
        Assert.False(verdict.Passed);
        Assert.Contains("0, which is a real class", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_alignment_is_refused()
    {
        var verdict = Lesson14.AlignLabels((p, l) => SubwordAlignment.Align(p, l));
        Assert.False(verdict.Passed);
        Assert.Contains("SubwordAlignment.Align", verdict.Feedback);
    }

    [Fact]
    public void Cls_reference_passes() =>
        Assert.True(Lesson14.ClsLogits((h, w, b) => h.select(1, 0).matmul(w.t()) + b).Passed);

    [Fact]
    public void Cls_placeholder_fails_as_the_placeholder()
    {
        var verdict = Lesson14.ClsLogits((h, w, b) => zeros(h.shape[0], w.shape[0]));
        Assert.False(verdict.Passed);
        Assert.Contains("placeholder", verdict.Feedback);
    }

    [Fact]
    public void Mean_pooling_is_named()
    {
        var verdict = Lesson14.ClsLogits((h, w, b) => h.mean([1]).matmul(w.t()) + b);
        Assert.False(verdict.Passed);
        Assert.Contains("mean pooling", verdict.Feedback);
    }

    [Fact]
    public void The_last_position_is_named()
    {
        var verdict = Lesson14.ClsLogits((h, w, b) => h.select(1, h.shape[1] - 1).matmul(w.t()) + b);
        Assert.False(verdict.Passed);
        Assert.Contains("last position", verdict.Feedback);
    }

    [Fact]
    public void Indexing_the_batch_axis_is_named()
    {
        var verdict = Lesson14.ClsLogits((h, w, b) => h[0].matmul(w.t()) + b);
        Assert.False(verdict.Passed);
        Assert.Contains("not example 0 on axis 0", verdict.Feedback);
    }

    [Fact]
    public void A_missing_bias_is_named()
    {
        var verdict = Lesson14.ClsLogits((h, w, b) => h.select(1, 0).matmul(w.t()));
        Assert.False(verdict.Passed);
        Assert.Contains("bias is missing", verdict.Feedback);
    }
}
