using TorchSharp;
using TransformerCourse.Data;
using static TorchSharp.torch;

namespace TransformerCourse.Training;

/// <summary>
/// <see cref="SequenceTrainer.Fit"/> with a linear learning-rate warm-up: step s (from 1) uses
/// learningRate · min(1, s / warmupSteps), then the rate stays at its peak. With warmupSteps = 0 it is exactly
/// <see cref="SequenceTrainer.Fit"/> (Adam, cross-entropy over every target position).
/// </summary>
public static class WarmupTrainer
{
    /// <summary>The rate at step <paramref name="step"/> (1-based).</summary>
    public static double RateAt(int step, double learningRate, int warmupSteps) =>
        warmupSteps <= 0 ? learningRate : learningRate * Math.Min(1.0, step / (double)warmupSteps);

    /// <summary>Trains and returns the loss at each step.</summary>
    public static List<double> Fit(nn.Module<Tensor, Tensor> model, ISequenceTask task, int steps, int batchSize,
        double learningRate, int warmupSteps, Action<int, double>? onStep = null)
    {
        Guard.Positive(steps, nameof(steps));
        Guard.Positive(learningRate, nameof(learningRate));
        if (warmupSteps < 0) throw new ArgumentException($"warmupSteps must be 0 or more but is {warmupSteps}.", nameof(warmupSteps));
        return SequenceTrainer.Fit(model, task, steps, batchSize, learningRate, onStep, step => RateAt(step, learningRate, warmupSteps));
    }
}
