using TorchSharp;
using TransformerCourse.Data;
using static TorchSharp.torch;

namespace TransformerCourse.Training;

/// <summary>A plain Adam loop (a <see cref="TrainingLoop{TBatch}"/> without clipping) for the small sequence tasks of Section 1.</summary>
public static class SequenceTrainer
{
    /// <summary>Trains with cross-entropy over every target position; returns the loss at each step.</summary>
    /// <param name="onStep">Called after each step with (step, loss), e.g. to take attention snapshots.</param>
    /// <param name="learningRateAt">Optional schedule: the rate for each 1-based step (default: constant).</param>
    public static List<double> Fit(nn.Module<Tensor, Tensor> model, ISequenceTask task, int steps, int batchSize,
        double learningRate = 3e-3, Action<int, double>? onStep = null, Func<int, double>? learningRateAt = null)
    {
        Guard.Positive(steps, nameof(steps));
        Guard.Positive(learningRate, nameof(learningRate));
        using var optimizer = optim.Adam(model.parameters(), learningRate);
        var loop = new TrainingLoop<SequenceBatch>(model, optimizer,
            () => task.Sample(batchSize),
            batch =>
            {
                var logits = model.forward(batch.Source);
                return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), batch.Target.reshape(-1));
            },
            new TrainingLoopOptions(steps, learningRateAt));
        if (onStep is not null) loop.StepCompleted += s => onStep(s.Step, s.Loss);
        loop.Run();
        model.eval();
        return loop.History.Select(s => s.Loss).ToList();
    }

    /// <summary>Fraction of fresh examples whose whole target sequence is predicted exactly.</summary>
    public static double ExactMatch(nn.Module<Tensor, Tensor> model, ISequenceTask task, int examples = 512)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var batch = task.Sample(examples);
        var predicted = model.forward(batch.Source).argmax(-1);
        return predicted.eq(batch.Target).all(1).to_type(ScalarType.Float64).mean().item<double>();
    }
}
