using TransformerCourse.Analysis;
using TransformerCourse.Exercises;
using TransformerCourse.Gpt;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 18's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson18ExerciseTests : TorchTest
{
    // The notebook's reference solution.
    static long Reference(int layers, int width, int heads, int kvHeads, int tokens, int batch, int bytesPerElement) =>
        2L * layers * kvHeads * (width / heads) * tokens * batch * bytesPerElement;

    [Fact]
    public void Cache_bytes_reference_passes() => Assert.True(Lesson18.CacheBytes(Reference).Passed);

    [Fact]
    public void Cache_bytes_placeholder_fails() => AssertNotYet(Lesson18.CacheBytes((_, _, _, _, _, _, _) => 0), "placeholder 0");

    [Fact]
    public void Cache_bytes_calling_the_library_is_refused() =>
        AssertNotYet(Lesson18.CacheBytes((l, w, h, kv, t, b, e) => KvCacheCost.Bytes(l, kv, w / h, t, e, b)), "KvCacheCost.Bytes");

    [Theory]
    [InlineData("no K and V", "both the keys and the values")]
    [InlineData("elements", "number of elements")]
    [InlineData("query heads", "only the 2 key/value heads are cached")]
    [InlineData("no batch", "one sequence")]
    [InlineData("no layers", "one layer")]
    [InlineData("full width", "head width")]
    [InlineData("int", "wrapped around")]
    [InlineData("off", "times that")]
    public void Cache_bytes_mistakes_are_named(string mistake, string diagnosis)
    {
        Func<int, int, int, int, int, int, int, long> wrong = mistake switch
        {
            "no K and V" => (l, w, h, kv, t, b, e) => 1L * l * kv * (w / h) * t * b * e,
            "elements" => (l, w, h, kv, t, b, e) => 2L * l * kv * (w / h) * t * b,
            "query heads" => (l, w, h, kv, t, b, e) => 2L * l * h * (w / h) * t * b * e,
            "no batch" => (l, w, h, kv, t, b, e) => 2L * l * kv * (w / h) * t * e,
            "no layers" => (l, w, h, kv, t, b, e) => 2L * kv * (w / h) * t * b * e,
            "full width" => (l, w, h, kv, t, b, e) => 2L * l * kv * w * t * b * e,
            "int" => (l, w, h, kv, t, b, e) => 2 * l * kv * (w / h) * t * b * e,
            _ => (l, w, h, kv, t, b, e) => 3L * l * kv * (w / h) * t * b * e,
        };
        AssertNotYet(Lesson18.CacheBytes(wrong), diagnosis);
    }

    [Fact]
    public void Int_arithmetic_only_fails_on_the_case_past_the_int_range()
    {
        var verdict = Lesson18.CacheBytes((l, w, h, kv, t, b, e) => 2 * l * kv * (w / h) * t * b * e);
        Assert.Contains("LLaMA-2 70B", verdict.Feedback);
    }

    // Exercise 1's reference solution, and variants with one mistake each.
    static (Tensor, Tensor, Tensor) Step(Tensor pastK, Tensor pastV, Tensor q, Tensor k, Tensor v, string mistake = "")
    {
        var keys = mistake == "prepend" ? cat([k, pastK], 2) : cat([pastK, k], 2);
        var values = mistake == "prepend" ? cat([v, pastV], 2) : cat([pastV, v], 2);
        var (attendK, attendV) = mistake == "attend first" ? (pastK, pastV) : (keys, values);
        var scores = q.matmul(attendK.transpose(-2, -1));
        if (mistake != "unscaled") scores = scores / Math.Sqrt(q.shape[^1]);
        if (mistake == "square mask") scores = scores.masked_fill(ones(1, attendK.shape[2], dtype: ScalarType.Bool).triu(1), double.NegativeInfinity);
        var output = scores.softmax(mistake == "query axis" ? 2 : -1).matmul(attendV);
        return mistake == "no append" ? (pastK, pastV, output) : (keys, values, output);
    }

    [Fact]
    public void Cached_step_reference_passes() { var v = Lesson18.CachedStep((pk, pv, q, k, v) => Step(pk, pv, q, k, v)); Assert.True(v.Passed, v.Feedback); }

    [Fact]
    public void Cached_step_placeholder_fails() => AssertNotYet(Lesson18.CachedStep((pk, pv, q, _, _) => (pk, pv, zeros_like(q))), "placeholder");

    [Theory]
    [InlineData("no append", "still hold only the 0 cached positions")]
    [InlineData("attend first", "saw the cached keys but not its own")]
    [InlineData("square mask", "attended only to the first key")]
    [InlineData("unscaled", "not divided by √d")]
    [InlineData("query axis", "softmax ran over the single query")]
    [InlineData("prepend", "in front of the cached ones")]
    public void Cached_step_mistakes_are_named(string mistake, string diagnosis) =>
        AssertNotYet(Lesson18.CachedStep((pk, pv, q, k, v) => Step(pk, pv, q, k, v, mistake)), diagnosis);

    [Fact]
    public void Repeat_kv_reference_passes() { var v = Lesson18.RepeatKv((kv, h) => kv.repeat_interleave(h / kv.shape[1], dim: 1)); Assert.True(v.Passed, v.Feedback); }

    [Fact]
    public void Repeat_kv_placeholder_fails() => AssertNotYet(Lesson18.RepeatKv((kv, _) => kv), "nothing was repeated yet");

    [Fact]
    public void Repeat_kv_tiled_order_is_named() => AssertNotYet(Lesson18.RepeatKv((kv, h) => kv.repeat(1, h / kv.shape[1], 1, 1)), "tiled");

    [Fact]
    public void Repeat_kv_along_time_is_named() => AssertNotYet(Lesson18.RepeatKv((kv, h) => kv.repeat_interleave(h / kv.shape[1], dim: 2)), "time axis");

    [Fact]
    public void Repeat_kv_with_a_wrong_group_mapping_is_named() =>
        AssertNotYet(Lesson18.RepeatKv((kv, h) => kv.repeat_interleave(h / kv.shape[1], dim: 1).flip(1)), "does not get kv head");

    [Fact]
    public void Repeat_kv_calling_the_library_is_refused() => AssertNotYet(Lesson18.RepeatKv(GroupedQueryAttention.RepeatKv), "GroupedQueryAttention.RepeatKv");

    static void AssertNotYet(Verdict verdict, string diagnosis)
    {
        Assert.False(verdict.Passed);
        Assert.StartsWith(Exercise.FailMark, verdict.Feedback);
        Assert.Contains(diagnosis, verdict.Feedback);
    }
}
