using TorchSharp;
using TransformerCourse.Gpt;
using TransformerCourse.Notebook;
using static TorchSharp.torch;

namespace TransformerCourse.MoE;

/// <summary>One line of the per-token operation count.</summary>
public sealed record ComputeLine(string Part, long DenseMultiplyAdds, long MoeMultiplyAdds);

/// <summary>
/// Dense vs sparse compute per token, counted rather than timed: multiply-adds of one token's forward pass, part by part
/// (a matrix of shape in × out costs in · out multiply-adds per token). Attention scores are counted for a token at the
/// last position of a full context (it reads T keys and T values); biases, LayerNorm and softmax are left out.
/// </summary>
public static class MoeCompute
{
    public static IReadOnlyList<ComputeLine> PerToken(GptConfig gpt, MoeConfig moe)
    {
        gpt.Validated();
        moe.Validated();
        long d = gpt.Width, l = gpt.Layers, t = gpt.ContextLength, v = gpt.VocabSize, n = moe.Experts, k = moe.TopK;
        long ffn = 2 * d * 4 * d;
        return
        [
            new("attention projections (Q, K, V, output)", l * 4 * d * d, l * 4 * d * d),
            new($"attention scores and weighted sum (T = {t})", l * 2 * t * d, l * 2 * t * d),
            new("router (width × experts)", 0, l * d * n),
            new($"feed-forward: dense FFN / {k} of {n} experts", l * ffn, l * k * ffn),
            new("output head (tied embedding)", d * v, d * v),
        ];
    }

    /// <summary>Training throughput: tokens per second of one forward and backward pass on <paramref name="inputs"/>, for each
    /// model, from the median of <paramref name="rounds"/> interleaved rounds (see <see cref="InterleavedTiming"/>).</summary>
    public static double[] TokensPerSecond(IReadOnlyList<nn.Module<Tensor, Tensor>> models, Tensor inputs, Tensor targets, int rounds = 7)
    {
        Guard.RankExactly(inputs, 2, nameof(inputs), "batch, time");
        var actions = models.Select(m => (Action)(() =>
        {
            using var scope = NewDisposeScope();
            m.train();
            m.zero_grad();
            var logits = m.forward(inputs);
            nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.reshape(-1)).backward();
        })).ToList();
        var ms = InterleavedTiming.MedianMilliseconds(actions, rounds);
        foreach (var m in models) m.zero_grad();
        return ms.Select(x => inputs.numel() / (x / 1000)).ToArray();
    }
}
