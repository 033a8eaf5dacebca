using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.MoE;

/// <summary>What <see cref="MoeFeedForward.Route"/> returns: the layer's output, its balancing loss (a scalar with
/// gradient) and the routing numbers of the batch.</summary>
public sealed record MoeOutput(Tensor Output, Tensor BalanceLoss, RoutingStats Stats);

/// <summary>
/// A mixture-of-experts feed-forward layer (Shazeer et al., 2017; Fedus et al., 2022): a linear router scores the N
/// experts for each token, top-k gating picks k of them, each expert (the dense model's <see cref="Mlp"/>: width →
/// 4·width → width) processes only the tokens sent to it, up to its capacity, and the gated outputs are summed.
/// Tokens an expert drops get nothing from it: in a block they pass through on the residual connection.
/// forward(x (B, T, C)) → (B, T, C).
/// </summary>
public sealed class MoeFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly Linear router;
    private readonly ModuleList<Mlp> experts;

    public MoeFeedForward(GptConfig gpt, MoeConfig moe) : base(nameof(MoeFeedForward))
    {
        Config = moe.Validated();
        Width = gpt.Validated().Width;
        router = nn.Linear(gpt.Width, moe.Experts, hasBias: false);
        experts = nn.ModuleList(Enumerable.Range(0, moe.Experts).Select(_ => new Mlp(gpt)).ToArray());
        RegisterComponents();
    }

    public MoeConfig Config { get; }
    public int Width { get; }
    public Linear Router => router;
    public IReadOnlyList<Mlp> Experts => [.. experts];

    /// <summary>Parameters of one expert (all experts are the same size).</summary>
    public long ExpertParameters => experts[0].parameters().Sum(p => p.NumberOfElements);

    public override Tensor forward(Tensor x)
    {
        var routed = Route(x);
        routed.BalanceLoss.Dispose();
        return routed.Output;
    }

    /// <summary>The output, the Switch balancing loss and the routing statistics of this batch.</summary>
    public MoeOutput Route(Tensor x)
    {
        Guard.Rank(x, 2, nameof(x), "…, width");
        if (x.shape[^1] != Width) throw new ArgumentException($"x has width {x.shape[^1]} but the layer was built for {Width} (shape {Guard.Shape(x)}).", nameof(x));
        using var scope = NewDisposeScope();
        var flat = x.reshape(-1, Width);
        int tokens = (int)flat.shape[0], n = Config.Experts, k = Config.TopK;
        var decision = MoeRouting.TopK(router.forward(flat), k);
        int capacity = Config.CapacityFactor is { } factor ? MoeRouting.Capacity(tokens, n, k, factor) : tokens;
        var keep = MoeRouting.KeepMask(decision.Experts, n, capacity);
        var balance = MoeRouting.LoadBalancingLoss(decision.Probabilities, decision.Experts[.., 0]);

        var output = zeros_like(flat);
        for (int e = 0; e < n; e++)
        {
            var chosen = decision.Experts.eq(e).logical_and(keep);               // (tokens, k)
            if (!chosen.any().item<bool>()) continue;
            var hits = chosen.nonzero();                                          // (m, 2): token, choice slot
            var who = hits[.., 0];
            var gate = decision.Gates[who, hits[.., 1]].unsqueeze(1);
            if (Config.OutputScale != 1.0) gate = gate * Config.OutputScale;
            output = output.index_add(0, who, experts[e].forward(flat[who]) * gate, 1);
        }

        using var noGrad = no_grad();
        var stats = new RoutingStats(
            MoeRouting.DispatchFraction(decision.Experts[.., 0], n).to_type(ScalarType.Float64).cpu().data<double>().ToArray(),
            decision.Probabilities.mean(new long[] { 0 }).to_type(ScalarType.Float64).cpu().data<double>().ToArray(),
            MoeRouting.DroppedShare(keep),
            balance.to_type(ScalarType.Float64).item<double>(),
            decision.Gates[.., 0].mean().to_type(ScalarType.Float64).item<double>());
        return new MoeOutput(output.view(x.shape).MoveToOuterDisposeScope(), balance.MoveToOuterDisposeScope(), stats);
    }
}
