using TorchSharp;
using TransformerCourse.Attention;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>The two masks an encoder–decoder needs, built from padded token ids (boolean, true = may attend).</summary>
public static class Seq2SeqMasks
{
    /// <summary>(B, 1, L_s): every query may see the real (non-pad) source tokens. Used by encoder self-attention
    /// and decoder cross-attention.</summary>
    public static Tensor Source(Tensor source, long padId)
    {
        RebuiltRoutines.Enter("Seq2SeqMasks.Source");
        return Masks.FromPadToken(source, padId);
    }

    /// <summary>(B, L_t, L_t): target position i may see positions 0..i that are not padding.</summary>
    public static Tensor Target(Tensor target, long padId)
    {
        RebuiltRoutines.Enter("Seq2SeqMasks.Target");
        Guard.RankExactly(target, 2, nameof(target), "batch, length");
        using var causal = Masks.Causal(target.shape[1], target.device);
        using var padding = Masks.FromPadToken(target, padId);
        return causal.logical_and(padding);
    }
}
