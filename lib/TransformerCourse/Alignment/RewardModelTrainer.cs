using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>Held-out Bradley–Terry loss and preference accuracy of a reward model at one step.</summary>
public sealed record RewardEval(int Step, double Loss, double Accuracy);

/// <summary>What <see cref="RewardModelTrainer.Train"/> measured.</summary>
/// <param name="InitialLoss">Bradley–Terry loss on all training pairs before the first update.</param>
public sealed record RewardModelRun(double InitialLoss, IReadOnlyList<TrainingStep> History, IReadOnlyList<RewardEval> Evals, double Seconds)
{
    public RewardEval Final => Evals[^1];
}

/// <summary>Trains a <see cref="RewardModel"/> on preference pairs with the Bradley–Terry loss, through the course's <see cref="TrainingLoop{TBatch}"/>.</summary>
public static class RewardModelTrainer
{
    public static RewardModelRun Train(RewardModel model, PreferenceSet train, PreferenceSet heldOut, int steps, int batchSize,
        double learningRate, int evalInterval, int seed, Device device)
    {
        Guard.Positive(batchSize, nameof(batchSize));
        var watch = Stopwatch.StartNew();
        model.to(device);
        var (chosen, rejected) = (train.Chosen.to(device), train.Rejected.to(device));
        var (heldChosen, heldRejected) = (heldOut.Chosen.to(device), heldOut.Rejected.to(device));
        double initial;
        using (no_grad()) initial = BradleyTerry.Loss(model.forward(chosen), model.forward(rejected)).item<float>();
        var evals = new List<RewardEval>();
        var generator = new Generator((ulong)seed);
        using var optimizer = optim.AdamW(model.parameters(), lr: learningRate, weight_decay: 0.0);
        var loop = new TrainingLoop<Tensor>(model, optimizer,
            nextBatch: () => randint(0, train.Count, [batchSize], generator: generator).to(device),
            loss: index =>
            {
                var (rw, rl) = (model.forward(chosen[index]), model.forward(rejected[index]));
                return new BatchLoss(BradleyTerry.Loss(rw, rl), new Dictionary<string, Tensor> { ["margin"] = (rw - rl).mean() });
            },
            new TrainingLoopOptions(steps, GradientClip: 1.0, EvalInterval: evalInterval),
            evaluate: step =>
            {
                var (rw, rl) = (model.forward(heldChosen), model.forward(heldRejected));
                evals.Add(new RewardEval(step, BradleyTerry.Loss(rw, rl).item<float>(), BradleyTerry.Accuracy(rw, rl)));
            });
        loop.Run();
        model.eval();
        return new RewardModelRun(initial, loop.History, evals, watch.Elapsed.TotalSeconds);
    }

    /// <summary>Rewards of many sequences (B, T) in one no-gradient pass, as doubles.</summary>
    public static double[] Score(RewardModel model, Tensor tokens)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        model.eval();
        return model.forward(tokens.to(model.parameters().First().device)).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
    }
}
