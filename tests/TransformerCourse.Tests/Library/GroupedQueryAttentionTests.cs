using TransformerCourse.Analysis;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>Grouped-query attention: multi-head as the special case, the cached path, the head grouping, bad input.</summary>
public class GroupedQueryAttentionTests : TorchTest
{
    static readonly GptConfig Config = new(VocabSize: 11, ContextLength: 16, Layers: 2, Heads: 4, Width: 32);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void With_as_many_kv_heads_as_heads_it_reproduces_multi_head_attention(bool fused)
    {
        manual_seed(1);
        var mha = new CausalSelfAttention(Config) { UseFused = fused };
        var gqa = new GroupedQueryAttention(32, 4, 4) { UseFused = fused };
        gqa.LoadFromMultiHead(mha);
        mha.eval();
        var x = randn(2, 9, 32);
        using var noGrad = no_grad();
        Assert.True((mha.forward(x, null) - gqa.forward(x, null)).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void A_model_with_kv_heads_equal_to_heads_computes_what_the_gpt_computes()
    {
        manual_seed(2);
        var gpt = new GptModel(Config);
        var gqa = new GqaGptModel(Config, 4);
        gqa.LoadFromGpt(gpt);
        gpt.eval(); gqa.eval();
        var tokens = randint(0, 11, [2, 12]);
        using var noGrad = no_grad();
        Assert.True((gpt.forward(tokens) - gqa.forward(tokens)).abs().max().item<float>() < 1e-5);
        Assert.Equal(gpt.ParameterCount, gqa.ParameterCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Incremental_decoding_with_the_cache_equals_full_recomputation(int kvHeads)
    {
        manual_seed(3);
        var model = new GqaGptModel(Config, kvHeads);
        model.eval();
        var tokens = randint(0, 11, [1, 10]);
        using var noGrad = no_grad();
        var full = model.forward(tokens);
        using var cache = new KvCache(Config.Layers);
        var steps = new List<Tensor> { model.Forward(tokens[.., ..4], cache) };
        for (int i = 4; i < 10; i++) steps.Add(model.Forward(tokens[.., i..(i + 1)], cache));
        Assert.True((cat(steps, 1) - full).abs().max().item<float>() < 1e-5);
        // The cache holds only the kv heads: 2 · layers · kvHeads · headWidth · T · 4 bytes, read from the tensors.
        long measured = cache.Layers.Sum(l => l.KeyBytes + l.ValueBytes);
        Assert.Equal(KvCacheCost.Bytes(Config.Layers, kvHeads, Config.HeadWidth, 10, 4), measured);
        Assert.Equal(measured, cache.Bytes);
        Assert.Equal(new long[] { 1, kvHeads, 10, 8 }, cache.Layers[0].KeyShape);
    }

    [Fact]
    public void RepeatKv_gives_each_group_of_consecutive_query_heads_one_kv_head()
    {
        var kv = arange(2).view(1, 2, 1, 1).expand(1, 2, 3, 5).to_type(ScalarType.Float32);
        var expanded = GroupedQueryAttention.RepeatKv(kv, 6);
        Assert.Equal(new long[] { 1, 6, 3, 5 }, expanded.shape);
        Assert.Equal(new float[] { 0, 0, 0, 1, 1, 1 }, expanded[0, .., 0, 0].data<float>().ToArray());
        Assert.Equal(kv.shape, GroupedQueryAttention.RepeatKv(kv, 2).shape);
    }

    [Fact]
    public void Fewer_kv_heads_mean_fewer_parameters_and_heads_still_differ()
    {
        var mqa = new GroupedQueryAttention(32, 4, 1);
        var mha = new GroupedQueryAttention(32, 4, 4);
        long Count(GroupedQueryAttention m) => m.parameters().Sum(p => p.NumberOfElements);
        // k and v shrink from C×C to C×(C/H) each (plus their biases).
        Assert.Equal(2 * (32 * 32 + 32) - 2 * (32 * 8 + 8), Count(mha) - Count(mqa));
        var weights = mqa.Weights(randn(1, 6, 32));
        Assert.Equal(new long[] { 1, 4, 6, 6 }, weights.shape);
        Assert.True((weights.sum(-1) - 1).abs().max().item<float>() < 1e-5);
        Assert.Equal(0f, weights[0, .., 0, 1..].abs().max().item<float>());   // causal
    }

    [Fact]
    public void Bad_arguments_name_the_argument_and_sizes()
    {
        Assert.Contains("kvHeads (3)", Assert.Throws<ArgumentException>(() => new GroupedQueryAttention(32, 4, 3)).Message);
        Assert.Contains("width (30)", Assert.Throws<ArgumentException>(() => new GroupedQueryAttention(30, 4, 2)).Message);
        Assert.Contains("queryHeads (3)", Assert.Throws<ArgumentException>(() => GroupedQueryAttention.RepeatKv(zeros(1, 2, 3, 4), 3)).Message);
        Assert.Contains("width 16", Assert.Throws<ArgumentException>(() => new GroupedQueryAttention(32, 4, 2).forward(zeros(1, 3, 16), null)).Message);
        var mha = new CausalSelfAttention(Config);
        Assert.Contains("kvHeads = heads", Assert.Throws<ArgumentException>(() => new GroupedQueryAttention(32, 4, 2).LoadFromMultiHead(mha)).Message);
        Assert.Contains("kvHeads (3)", Assert.Throws<ArgumentException>(() => new GqaGptModel(Config, 3)).Message);
    }
}
