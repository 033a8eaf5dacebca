using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>Position-wise feed-forward network: widen ×4, GELU, project back.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear up, down;
    private readonly Dropout drop;

    public Mlp(GptConfig config) : base(nameof(Mlp))
    {
        Exercises.RebuiltRoutines.Enter("new Mlp(...)");
        up = nn.Linear(config.Width, 4 * config.Width);
        down = nn.Linear(4 * config.Width, config.Width);
        drop = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    internal Linear OutputProjection => down;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return drop.forward(down.forward(nn.functional.gelu(up.forward(x)))).MoveToOuterDisposeScope();
    }
}

/// <summary>A pre-LayerNorm transformer block: x + attn(ln(x)), then x + mlp(ln(x)).</summary>
public sealed class GptBlock : nn.Module<Tensor, LayerKvCache?, Tensor>
{
    private readonly LayerNorm ln1, ln2;
    private readonly CausalSelfAttention attn;
    private readonly Mlp mlp;

    public GptBlock(GptConfig config) : base(nameof(GptBlock))
    {
        Exercises.RebuiltRoutines.Enter("new GptBlock(...)");
        ln1 = nn.LayerNorm(config.Width);
        attn = new CausalSelfAttention(config);
        ln2 = nn.LayerNorm(config.Width);
        mlp = new Mlp(config);
        RegisterComponents();
    }

    internal CausalSelfAttention Attention => attn;
    internal Mlp Mlp => mlp;

    public override Tensor forward(Tensor x, LayerKvCache? cache)
    {
        using var scope = NewDisposeScope();
        x = x + attn.forward(ln1.forward(x), cache);
        x = x + mlp.forward(ln2.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}
