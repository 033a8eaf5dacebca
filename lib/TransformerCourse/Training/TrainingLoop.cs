using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Training;

/// <summary>What a loss function returns for one batch: the scalar to minimise and, optionally, named scalars to
/// record with the step (accuracy, a KL term, a reward margin …). A plain loss tensor converts to it implicitly, so
/// <c>batch =&gt; model.Loss(batch.X, batch.Y)</c> is a valid loss function.</summary>
public sealed record BatchLoss(Tensor Loss, IReadOnlyDictionary<string, Tensor>? Metrics = null)
{
    public static implicit operator BatchLoss(Tensor loss) => new(loss);
}

/// <summary>One completed optimisation step. Steps count from 1.</summary>
/// <param name="GradientNorm">Global gradient norm before clipping; null when clipping is off (it is not measured then).</param>
/// <param name="Milliseconds">Wall time of the whole step, batch included.</param>
/// <param name="Metrics">The loss function's extra scalars, read after the step.</param>
public sealed record TrainingStep(int Step, double Loss, double LearningRate, double? GradientNorm, double Milliseconds,
    IReadOnlyDictionary<string, double> Metrics);

/// <summary>How <see cref="TrainingLoop{TBatch}"/> trains.</summary>
/// <param name="Steps">Total steps of the run; <see cref="TrainingLoop{TBatch}.Run"/> stops there.</param>
/// <param name="LearningRateAt">Schedule: the rate for each 1-based step (null keeps the optimizer's rate). For a
/// <see cref="NoamSchedule"/> pass <c>noam.At</c>; a <see cref="WarmupCosineSchedule"/> counts from 0, so pass
/// <c>s =&gt; cosine.At(s - 1)</c>.</param>
/// <param name="GradientClip">Largest global gradient norm; 0 turns clipping off.</param>
/// <param name="EvalInterval">Evaluate every this many steps (and when a run stops); 0: only when a run stops.</param>
/// <param name="DivergenceHint">Appended to the message when the loss or the gradient stops being finite.</param>
public sealed record TrainingLoopOptions(int Steps, Func<int, double>? LearningRateAt = null, double GradientClip = 0,
    int EvalInterval = 0, string DivergenceHint = "Try a lower learning rate or stronger clipping.");

/// <summary>Raised when the loss stops being a finite number; the last good state is kept.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// The one training loop of the course. Each step: set the learning rate, take a batch, compute the loss, stop if it is
/// not finite, backpropagate, clip the global gradient norm, update, record. Everything a step allocates lives in one
/// dispose scope, so native memory stays flat however long the run. What is trained is given as delegates: a batch
/// source and a loss function of a batch, so the same loop serves a tagger, a translator, a GPT or a reward model.
/// </summary>
/// <example><code>
/// var loop = new TrainingLoop&lt;(Tensor X, Tensor Y)&gt;(model, optimizer,
///     nextBatch: () =&gt; corpus.Batch(false, 32, 128, generator),
///     loss: batch =&gt; model.Loss(batch.X, batch.Y),
///     new TrainingLoopOptions(Steps: 1000, LearningRateAt: s =&gt; schedule.At(s - 1), GradientClip: 1.0, EvalInterval: 100),
///     evaluate: step =&gt; Console.WriteLine($"step {step}: val loss {ValidationLoss(model):0.000}"));
/// loop.StepCompleted += s =&gt; plot.Add(s.Step, s.Loss);
/// loop.Run();
/// </code></example>
public sealed class TrainingLoop<TBatch>
{
    private readonly nn.Module model;
    private readonly optim.Optimizer optimizer;
    private readonly Func<TBatch> nextBatch;
    private readonly Func<TBatch, BatchLoss> loss;
    private readonly Action<int>? evaluate;
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> parameters;
    private int step;

    /// <param name="nextBatch">Called once per step, inside the step's dispose scope: tensors it creates are freed after the step.</param>
    /// <param name="loss">The scalar to minimise for a batch (plus optional metrics).</param>
    /// <param name="evaluate">Called with the step number every <see cref="TrainingLoopOptions.EvalInterval"/> steps and
    /// when a run stops, with the model in eval mode, gradients off and its own dispose scope.</param>
    public TrainingLoop(nn.Module model, optim.Optimizer optimizer, Func<TBatch> nextBatch, Func<TBatch, BatchLoss> loss,
        TrainingLoopOptions options, Action<int>? evaluate = null)
    {
        Guard.Positive(options.Steps, nameof(options.Steps));
        if (options.GradientClip < 0 || double.IsNaN(options.GradientClip))
            throw new ArgumentException($"GradientClip must be 0 (off) or positive but is {options.GradientClip}.", nameof(options));
        if (options.EvalInterval < 0)
            throw new ArgumentException($"EvalInterval must be 0 (only at the end) or positive but is {options.EvalInterval}.", nameof(options));
        this.model = model;
        this.optimizer = optimizer;
        this.nextBatch = nextBatch;
        this.loss = loss;
        this.evaluate = evaluate;
        Options = options;
        parameters = model.parameters().ToList();
    }

    public TrainingLoopOptions Options { get; }

    /// <summary>Steps completed so far. Set it when resuming from a checkpoint (the schedule continues from there).</summary>
    public int Step
    {
        get => step;
        set => step = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Step), value, "Step must be 0 or more.");
    }

    /// <summary>Every step this loop has taken, in order.</summary>
    public List<TrainingStep> History { get; } = [];

    /// <summary>Raised after every step, still inside its dispose scope (call <c>DetachFromDisposeScope</c> on a tensor
    /// to keep it). Use it for live plots, progress lines and snapshots.</summary>
    public event Action<TrainingStep>? StepCompleted;

    /// <summary>Trains until <see cref="TrainingLoopOptions.Steps"/>, or until <paramref name="stopAfterStep"/>.
    /// Evaluates every EvalInterval steps and once more where the run stops, unless that step was just evaluated.</summary>
    public void Run(int? stopAfterStep = null)
    {
        int end = Math.Min(Options.Steps, stopAfterStep ?? Options.Steps);
        while (Step < end)
        {
            TrainStep();
            bool due = Options.EvalInterval > 0 && Step % Options.EvalInterval == 0;
            if (due || Step == end) Evaluate();
        }
    }

    /// <summary>One optimisation step.</summary>
    public TrainingStep TrainStep()
    {
        var watch = Stopwatch.StartNew();
        int current = Step + 1;
        // The schedule is applied before every step, so resuming at any step gives the same rates.
        if (Options.LearningRateAt is not null)
            foreach (var group in optimizer.ParamGroups) group.LearningRate = Options.LearningRateAt(current);
        double lr = optimizer.ParamGroups.First().LearningRate;
        model.train(); // an evaluation or a callback may have switched dropout off

        using var scope = NewDisposeScope();
        var batch = nextBatch();
        var output = loss(batch);
        // Check before backward and step: a NaN must not reach the weights or the optimizer's moments.
        double value = output.Loss.ToDouble();
        if (!double.IsFinite(value)) throw Diverged($"The loss became {value}", current, lr);
        optimizer.zero_grad();
        output.Loss.backward();
        double? norm = null;
        if (Options.GradientClip > 0)
        {
            // Scales every gradient by min(1, clip / norm): a no-op below the limit (Pascanu et al., 2013).
            norm = nn.utils.clip_grad_norm_(parameters, Options.GradientClip);
            if (!double.IsFinite(norm.Value)) throw Diverged($"The gradient norm became {norm.Value}", current, lr);
        }
        optimizer.step();

        var metrics = output.Metrics?.ToDictionary(m => m.Key, m => m.Value.ToDouble()) ?? new Dictionary<string, double>();
        Step = current;
        var record = new TrainingStep(current, value, lr, norm, watch.Elapsed.TotalMilliseconds, metrics);
        History.Add(record);
        StepCompleted?.Invoke(record);
        return record;
    }

    /// <summary>Calls the evaluate delegate now, in eval mode without gradients; training mode is restored after.</summary>
    public void Evaluate()
    {
        if (evaluate is null) return;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            evaluate(Step);
        }
        finally
        {
            model.train();
        }
    }

    TrainingDivergedException Diverged(string what, int at, double lr) => new(
        $"{what} at step {at} (learning rate {lr:G3}). Training stopped before that step changed the weights, so the model " +
        $"and optimizer hold step {at - 1}'s state. {Options.DivergenceHint}");
}
