using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Training;

/// <summary>
/// How often each target position is predicted right. Exact match asks for a whole sequence at once;
/// this splits the score by position, which shows where along a sequence a model starts to fail.
/// </summary>
public static class PositionAccuracy
{
    /// <param name="logits">(batch, targetLength, vocab)</param>
    /// <param name="target">(batch, targetLength) token ids</param>
    /// <returns>One fraction per target position, in order.</returns>
    public static double[] FromLogits(Tensor logits, Tensor target)
    {
        RebuiltRoutines.Enter("PositionAccuracy.FromLogits");
        Guard.RankExactly(logits, 3, nameof(logits), "batch, targetLength, vocab");
        Guard.RankExactly(target, 2, nameof(target), "batch, targetLength");
        if (logits.shape[0] != target.shape[0] || logits.shape[1] != target.shape[1])
            throw new ArgumentException(
                $"logits {Guard.Shape(logits)} and target {Guard.Shape(target)} must agree on batch and targetLength.", nameof(target));
        using var scope = NewDisposeScope();
        var right = logits.detach().argmax(-1).eq(target.to(logits.device)).to_type(ScalarType.Float64).mean([0]);
        return right.cpu().data<double>().ToArray();
    }

    /// <summary>Per-position accuracy of <paramref name="model"/> on <paramref name="examples"/> fresh examples of <paramref name="task"/>.</summary>
    public static double[] Measure(nn.Module<Tensor, Tensor> model, ISequenceTask task, int examples = 512)
    {
        Guard.Positive(examples, nameof(examples));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var batch = task.Sample(examples);
        return FromLogits(model.forward(batch.Source), batch.Target);
    }
}
