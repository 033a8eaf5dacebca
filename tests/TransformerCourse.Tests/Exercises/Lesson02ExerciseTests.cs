using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 2's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson02ExerciseTests : TorchTest
{
    static void NotYet(Verdict verdict, string diagnosis)
    {
        Assert.False(verdict.Passed, verdict.Feedback);
        Assert.Contains(diagnosis, verdict.Feedback);
    }

    [Fact]
    public void Variance_reference_passes() =>
        Assert.True(Lesson02.PredictedVariance((d, sq, sk) => d * sq * sq * sk * sk).Passed);

    [Fact]
    public void Variance_placeholder_fails() =>
        NotYet(Lesson02.PredictedVariance((d, sq, sk) => d), "whatever σ_q and σ_k are");

    [Fact]
    public void Variance_linear_in_sigma_is_named() =>
        NotYet(Lesson02.PredictedVariance((d, sq, sk) => d * sq * sk), "squared units");

    [Fact]
    public void Variance_that_adds_the_sigmas_is_named() =>
        NotYet(Lesson02.PredictedVariance((d, sq, sk) => d * (sq * sq + sk * sk)), "product");

    [Fact]
    public void Variance_without_d_is_named() =>
        NotYet(Lesson02.PredictedVariance((d, sq, sk) => sq * sq * sk * sk), "does not change with d");

    [Fact]
    public void Variance_with_the_square_root_of_d_is_named() =>
        NotYet(Lesson02.PredictedVariance((d, sq, sk) => Math.Sqrt(d) * sq * sq * sk * sk), "twice the variance");

    [Fact]
    public void Query_reference_passes() =>
        Assert.True(Lesson02.QueryFindsCat([0, 1.6f, 0, 0, -1, -0.6f, 0]).Passed);

    [Fact]
    public void Query_placeholder_fails_naming_it() =>
        NotYet(Lesson02.QueryFindsCat([0, 0.8f, 0, 0, 1, 0, 0]), "\"it\" still takes the most weight");

    [Fact]
    public void Query_of_only_the_animal_feature_is_too_weak() =>
        NotYet(Lesson02.QueryFindsCat([0, 1, 0, 0, 0, 0, 0]), "too small");

    [Theory]
    [InlineData(3f)]
    [InlineData(10f)]
    public void Query_of_pure_magnitude_wins_by_sheer_size(float size)
    {
        Assert.True(Lesson02.WeightsOver([0, size, 0, 0, 0, 0, 0])[Array.IndexOf(Lesson02.Sentence, "cat")] > Lesson02.CatShareNeeded);   // the loophole is real
        NotYet(Lesson02.QueryFindsCat([0, size, 0, 0, 0, 0, 0]), "sheer size");
    }

    [Fact]
    public void Long_reference_style_query_wins_by_sheer_size() =>
        NotYet(Lesson02.QueryFindsCat([0, 3, 0, 0, -2, -1, 0]), "sheer size");

    [Fact]
    public void Pure_magnitude_at_the_length_limit_is_not_enough() =>
        NotYet(Lesson02.QueryFindsCat([0, 2, 0, 0, 0, 0, 0]), "direction of the query");

    [Fact]
    public void Long_query_that_does_not_win_is_named_too() =>
        NotYet(Lesson02.QueryFindsCat([0, 0, 0, 0, 3, 0, 0]), "over the limit");

    [Fact]
    public void Query_that_also_matches_tired_is_named() =>
        NotYet(Lesson02.QueryFindsCat([0, 1, 0, 0, -1, 1, 0]), "\"tired\" takes the most weight");

    [Fact]
    public void Query_of_the_wrong_length_is_named() =>
        NotYet(Lesson02.QueryFindsCat([0, 3]), "one per feature");
}
