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

    static double ReferenceF1(int[] predicted, int[] gold, int positive)
    {
        int tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < gold.Length; i++)
        {
            if (predicted[i] == positive && gold[i] == positive) tp++;
            else if (predicted[i] == positive) fp++;
            else if (gold[i] == positive) fn++;
        }
        return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    static (int Tp, int Fp, int Fn) Counts(int[] predicted, int[] gold, int positive) =>
        (predicted.Zip(gold).Count(p => p.First == positive && p.Second == positive),
         predicted.Zip(gold).Count(p => p.First == positive && p.Second != positive),
         predicted.Zip(gold).Count(p => p.First != positive && p.Second == positive));

    [Fact]
    public void F1_reference_passes() => Assert.True(Lesson14.F1Score(ReferenceF1).Passed);

    [Fact]
    public void Right_answers_written_differently_pass()
    {
        Assert.True(Lesson14.F1Score((p, g, k) =>
        {
            var (tp, fp, fn) = Counts(p, g, k);
            double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp), recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
            return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        }).Passed);
        Assert.True(Lesson14.F1Score((p, g, k) => (float)ReferenceF1(p, g, k)).Passed);   // float arithmetic
    }

    /// <summary>The answers a learner is likely to write instead of F1, each with the words its feedback must contain.</summary>
    static readonly Dictionary<string, Func<int[], int[], int, double>> WrongF1 = new()
    {
        ["placeholder"] = (_, _, _) => 0,
        ["accuracy"] = (p, g, _) => p.Zip(g).Count(x => x.First == x.Second) / (double)g.Length,
        ["precision"] = (p, g, k) => { var (tp, fp, _) = Counts(p, g, k); return tp + fp == 0 ? 0 : tp / (double)(tp + fp); },
        ["recall"] = (p, g, k) => { var (tp, _, fn) = Counts(p, g, k); return tp + fn == 0 ? 0 : tp / (double)(tp + fn); },
        ["plain average"] = (p, g, k) =>
        {
            var (tp, fp, fn) = Counts(p, g, k);
            return tp == 0 ? 0 : (tp / (double)(tp + fp) + tp / (double)(tp + fn)) / 2;
        },
        ["no zero guard"] = (p, g, k) =>
        {
            var (tp, fp, fn) = Counts(p, g, k);
            double precision = tp / (double)(tp + fp), recall = tp / (double)(tp + fn);
            return 2 * precision * recall / (precision + recall);
        },
        ["int division"] = (p, g, k) => { var (tp, fp, fn) = Counts(p, g, k); return tp == 0 ? 0 : 2 * tp / (2 * tp + fp + fn); },
        ["int precision and recall"] = (p, g, k) =>
        {
            var (tp, fp, fn) = Counts(p, g, k);
            double precision = tp / (tp + Math.Max(1, fp)), recall = tp / (tp + Math.Max(1, fn));   // int / int
            return 2 * precision * recall / (precision + recall);
        },
        ["always class 1"] = (p, g, _) => ReferenceF1(p, g, 1),
        ["only class 0 is negative"] = (p, g, k) =>
        {
            int tp = p.Zip(g).Count(x => x.First == k && x.Second == k);
            int fp = p.Zip(g).Count(x => x.First == k && x.Second == 0), fn = p.Zip(g).Count(x => x.Second == k && x.First == 0);
            return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
        },
    };

    [Theory]
    [InlineData("placeholder", "the placeholder is still there")]
    [InlineData("accuracy", "that is the accuracy over all words")]
    [InlineData("precision", "that is the precision alone")]
    [InlineData("recall", "that is the recall alone")]
    [InlineData("plain average", "plain average of precision and recall")]
    [InlineData("no zero guard", "returns NaN")]
    [InlineData("int division", "(int / int) rounded the fraction down to 0")]
    [InlineData("int precision and recall", "(int / int) rounded a fraction down to 0")]
    [InlineData("always class 1", "that is the F1 of class 1")]
    [InlineData("only class 0 is negative", "it counts only class 0")]
    public void A_wrong_F1_is_named(string mistake, string feedback)
    {
        var verdict = Lesson14.F1Score(WrongF1[mistake]);
        Assert.False(verdict.Passed);
        Assert.Contains(feedback, verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_F1_is_refused()
    {
        var verdict = Lesson14.F1Score((p, g, k) => FineTuner.F1(p, g, k));
        Assert.False(verdict.Passed);
        Assert.Contains("FineTuner.F1", verdict.Feedback);
    }
}
