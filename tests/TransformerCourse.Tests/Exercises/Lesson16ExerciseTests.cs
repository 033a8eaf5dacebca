using TransformerCourse.Exercises;
using TransformerCourse.Gpt;
using TransformerCourse.Scaling;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 16's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson16ExerciseTests : TorchTest
{
    static Tensor Ce(Tensor logits, Tensor targets) => nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1));

    [Fact]
    public void Shifted_loss_reference_passes() => Assert.True(Lesson16.ShiftedLoss((l, t) => Ce(l[.., ..^1], t[.., 1..])).Passed);

    [Fact]
    public void Shifted_loss_placeholder_fails() => Assert.Contains("still returns 0", Lesson16.ShiftedLoss((_, _) => tensor(0.0f)).Feedback);

    [Theory]
    [InlineData("none", "no shift")]
    [InlineData("backwards", "wrong way")]
    [InlineData("roll", "wrap-around")]
    [InlineData("sum", "sum over the predictions")]
    [InlineData("bt", "T − 1 predictions")]
    [InlineData("logit", "raw logit")]
    [InlineData("probability", "logarithm")]
    [InlineData("bits", "bits")]
    [InlineData("perPosition", "shape [")]
    public void Shifted_loss_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<Tensor, Tensor, Tensor> yours = mistake switch
        {
            "none" => (l, t) => Ce(l, t),
            "backwards" => (l, t) => Ce(l[.., 1..], t[.., ..^1]),
            "roll" => (l, t) => Ce(l, t.roll(-1, 1)),
            "sum" => (l, t) => -l[.., ..^1].log_softmax(-1).gather(-1, t[.., 1..].unsqueeze(-1)).sum(),
            "bt" => (l, t) => -l[.., ..^1].log_softmax(-1).gather(-1, t[.., 1..].unsqueeze(-1)).sum() / t.NumberOfElements,
            "logit" => (l, t) => -l[.., ..^1].gather(-1, t[.., 1..].unsqueeze(-1)).mean(),
            "probability" => (l, t) => -l[.., ..^1].softmax(-1).gather(-1, t[.., 1..].unsqueeze(-1)).mean(),
            "bits" => (l, t) => Ce(l[.., ..^1], t[.., 1..]) / Math.Log(2),
            _ => (l, t) => -l[.., ..^1].log_softmax(-1).gather(-1, t[.., 1..].unsqueeze(-1)).squeeze(-1),
        };
        var verdict = Lesson16.ShiftedLoss(yours);
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    [Fact]
    public void Shifted_loss_refuses_the_library() =>
        Assert.Contains("library routine", Lesson16.ShiftedLoss(NextTokenLoss.Mean).Feedback);

    [Fact]
    public void Corpus_perplexity_reference_passes() => Assert.True(Lesson16.CorpusPerplexity(d => Math.Exp(d.SelectMany(x => x).Average())).Passed);

    [Fact]
    public void Corpus_perplexity_placeholder_fails() => Assert.Contains("still returns 0", Lesson16.CorpusPerplexity(_ => 0).Feedback);

    [Theory]
    [InlineData("meanOfPerplexities", "averaged the documents' perplexities")]
    [InlineData("meanOfMeans", "short document weighs as much")]
    [InlineData("noExp", "mean loss itself")]
    [InlineData("base2", "bits")]
    [InlineData("sum", "total loss")]
    public void Corpus_perplexity_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<List<double[]>, double> yours = mistake switch
        {
            "meanOfPerplexities" => d => d.Average(x => Math.Exp(x.Average())),
            "meanOfMeans" => d => Math.Exp(d.Average(x => x.Average())),
            "noExp" => d => d.SelectMany(x => x).Average(),
            "base2" => d => Math.Pow(2, d.SelectMany(x => x).Average()),
            _ => d => Math.Exp(d.SelectMany(x => x).Sum()),
        };
        var verdict = Lesson16.CorpusPerplexity(yours);
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    static long Reference(GptConfig c)
    {
        long d = c.Width;
        return (long)c.VocabSize * d + (long)c.ContextLength * d + c.Layers * (12 * d * d + 13 * d) + 2 * d + (c.TiedHead ? 0 : (long)c.VocabSize * d);
    }

    [Fact]
    public void Count_reference_passes() => Assert.True(Lesson16.CountParameters(Reference).Passed);

    [Fact]
    public void Count_placeholder_fails() => Assert.Contains("still returns 0", Lesson16.CountParameters(_ => 0).Feedback);

    [Theory]
    [InlineData("headTwice", "tied head reuses the token embedding")]
    [InlineData("noHead", "untied output layer, a V × d matrix of its own, is missing")]
    [InlineData("headBias", "has no bias")]
    [InlineData("noBiases", "biases of the four Linear layers")]
    [InlineData("noNorms", "layer norms")]
    [InlineData("noFinalNorm", "final layer norm")]
    [InlineData("noPositions", "position embedding")]
    [InlineData("rule", "12·L·d²")]
    public void Count_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<GptConfig, long> yours = mistake switch
        {
            "headTwice" => c => Reference(c with { TiedHead = false }),
            "noHead" => c => Reference(c with { TiedHead = true }),
            "headBias" => c => Reference(c) + (c.TiedHead ? 0 : c.VocabSize),
            "noBiases" => c => Reference(c) - c.Layers * 9L * c.Width,
            "noNorms" => c => Reference(c) - (c.Layers * 4L * c.Width + 2L * c.Width),
            "noFinalNorm" => c => Reference(c) - 2L * c.Width,
            "noPositions" => c => Reference(c) - (long)c.ContextLength * c.Width,
            _ => c => 12L * c.Layers * c.Width * c.Width,
        };
        var verdict = Lesson16.CountParameters(yours);
        Assert.False(verdict.Passed);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    [Fact]
    public void Count_refuses_building_a_model_or_the_library_formula()
    {
        Assert.Contains("library routine", Lesson16.CountParameters(c => { using var m = new GptModel(c); return m.ParameterCount; }).Feedback);
        Assert.Contains("library routine", Lesson16.CountParameters(ModelSizes.Total).Feedback);
        Assert.Contains("library routine", Lesson16.CountParameters(c => ModelSizes.EmbeddingParameters(c.VocabSize, c.ContextLength, c.Width)
            + ModelSizes.NonEmbeddingParameters(c.Layers, c.Width) + (c.TiedHead ? 0 : (long)c.VocabSize * c.Width)).Feedback);
        Assert.Contains("library routine", Lesson16.CountParameters(c => Reference(c) - c.Layers * ModelSizes.BlockParameters(c.Width)
            + c.Layers * ModelSizes.BlockParameters(c.Width)).Feedback);
    }

    [Fact]
    public void A_count_in_32_bit_integers_is_caught_at_GPT_3_size()
    {
        // Right for every small model; wraps around at GPT-3's 175 billion.
        var verdict = Lesson16.CountParameters(c =>
        {
            int d = c.Width;
            return unchecked(c.VocabSize * d + c.ContextLength * d + c.Layers * (12 * d * d + 13 * d) + 2 * d + (c.TiedHead ? 0 : c.VocabSize * d));
        });
        Assert.False(verdict.Passed);
        Assert.Contains("overflowed", verdict.Feedback);
    }

    [Fact]
    public void Corpus_perplexity_refuses_the_library_geometric_mean()
    {
        var verdict = Lesson16.CorpusPerplexity(docs => NextTokenLoss.GeometricMeanInverseProbability(docs.SelectMany(d => d).Select(l => Math.Exp(-l)).ToList()));
        Assert.False(verdict.Passed);
        Assert.Contains("library routine", verdict.Feedback);
    }
}
