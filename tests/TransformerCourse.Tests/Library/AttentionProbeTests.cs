using TorchSharp;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class AttentionProbeTests : TorchTest
{
    static GptModel Model(bool fused = true)
    {
        manual_seed(3);
        return new GptModel(new GptConfig(VocabSize: 11, ContextLength: 16, Layers: 2, Heads: 2, Width: 16, UseFusedAttention: fused));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_walk_reproduces_the_models_logits(bool fused)
    {
        var model = Model(fused);
        var tokens = randint(0, 11, [3, 9]);
        using var trace = AttentionProbe.Run(model, tokens);
        model.eval();
        using (no_grad())
            Assert.True((trace.Logits - model.forward(tokens)).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Weights_are_causal_distributions_for_every_layer_and_head()
    {
        var model = Model();
        model.train();
        var tokens = randint(0, 11, [3, 9]);
        using var trace = AttentionProbe.Run(model, tokens);
        Assert.Equal([2L, 3, 2, 9, 9], trace.Weights.shape);
        Assert.True((trace.Weights.sum(-1) - 1).abs().max().item<float>() < 1e-6);
        Assert.Equal(0f, trace.Weights.triu(1).abs().max().item<float>());
        Assert.True(model.training, "the probe must restore training mode");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Layer_weights_reproduce_what_the_attention_layer_outputs(bool fused)
    {
        var model = Model(fused);
        model.eval();
        var layer = model.modules().OfType<CausalSelfAttention>().First();
        var x = randn(2, 12, 16);
        var weights = AttentionProbe.LayerWeights(layer, x, heads: 2);
        var p = layer.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        using var noGrad = no_grad();
        var v = nn.functional.linear(x, p["qkv.weight"], p["qkv.bias"]).view(2, 12, 3, 2, 8)[.., .., 2].transpose(1, 2);
        var rebuilt = nn.functional.linear(weights.matmul(v).transpose(1, 2).reshape(2, 12, 16), p["proj.weight"], p["proj.bias"]);
        Assert.True((rebuilt - layer.forward(x, null)).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Zero_queries_and_keys_spread_weight_evenly_over_the_past()
    {
        var model = Model();
        using (no_grad())
            foreach (var (_, p) in model.named_parameters().Where(n => n.name.Contains("attn.qkv")))
                p.zero_();
        using var trace = AttentionProbe.Run(model, randint(0, 11, [1, 5]));
        var expected = ones(5, 5).tril() / arange(1, 6, dtype: ScalarType.Float32).unsqueeze(1);
        Assert.True((trace.Weights[1, 0, 1] - expected).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Bad_inputs_name_the_argument_and_sizes()
    {
        var model = Model();
        var e = Assert.Throws<ArgumentException>(() => AttentionProbe.Run(model, zeros(5, dtype: ScalarType.Int64)));
        Assert.Equal("tokens", e.ParamName);
        Assert.Contains("[5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => AttentionProbe.Run(model, zeros(1, 17, dtype: ScalarType.Int64)));
        Assert.Contains("context length 16", e.Message);
        var layer = model.modules().OfType<CausalSelfAttention>().First();
        e = Assert.Throws<ArgumentException>(() => AttentionProbe.LayerWeights(layer, randn(1, 4, 16), heads: 3));
        Assert.Equal("heads", e.ParamName);
    }
}
