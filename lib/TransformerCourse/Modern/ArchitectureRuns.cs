using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Modern;

/// <summary>How <see cref="ArchitectureRuns"/> trains every model of a comparison: the same batches, schedule and clipping.</summary>
/// <param name="ContextLength">Length of the training windows.</param>
public sealed record ShortRunOptions(int Steps = 150, int BatchSize = 16, int ContextLength = 64, double LearningRate = 3e-3,
    int WarmupSteps = 10, double GradientClip = 1.0, double WeightDecay = 0.1);

/// <summary>One trained model: its loss function, size and every training step (loss, wall time).</summary>
public sealed record ShortRun(string Name, int Seed, nn.Module Model, Func<Tensor, Tensor, Tensor> Loss, long Parameters, TrainingStep[] History)
{
    /// <summary>Median wall time of the training steps (the first step, which pays for warming up, counts like any other).</summary>
    public double MedianStepMilliseconds
    {
        get
        {
            var times = History.Select(s => s.Milliseconds).Order().ToArray();
            return times.Length % 2 == 1 ? times[times.Length / 2] : (times[times.Length / 2 - 1] + times[times.Length / 2]) / 2;
        }
    }

    /// <summary>
    /// Mean loss of each of <paramref name="batches"/> validation (or training) batches of <paramref name="length"/>-token
    /// windows, drawn with <paramref name="seed"/>: every model evaluated with the same seed sees the same windows, so the
    /// per-batch losses of two models can be compared pair by pair.
    /// </summary>
    public double[] BatchLosses(TokenCorpus corpus, int length, int batches, int batchSize, int seed = 2525, bool validation = true, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        Guard.Positive(length, nameof(length));
        Guard.Positive(batches, nameof(batches));
        Guard.Positive(batchSize, nameof(batchSize));
        bool training = Model.training;
        Model.eval();
        try
        {
            using var noGrad = no_grad();
            var generator = new Generator((ulong)seed);
            var losses = new double[batches];
            for (int i = 0; i < batches; i++)
            {
                using var scope = NewDisposeScope();
                var (x, y) = corpus.Batch(validation, batchSize, length, generator, device);
                losses[i] = Loss(x, y).to_type(ScalarType.Float64).item<double>();
            }
            return losses;
        }
        finally
        {
            Model.train(training);
        }
    }
}

/// <summary>
/// Short training runs for comparing architectures, through the course's one <see cref="TrainingLoop{TBatch}"/>: AdamW,
/// warm-up then cosine decay to a tenth, gradient clipping. The seed fixes the initial weights (the model is built
/// after <c>manual_seed(seed)</c>) and the order of the training batches, so two architectures trained with the same
/// seed see the same batches in the same order.
/// </summary>
public static class ArchitectureRuns
{
    public static ShortRun Train<TModel>(string name, Func<TModel> build, Func<TModel, Tensor, Tensor, Tensor> loss, TokenCorpus corpus, int seed,
        ShortRunOptions options, Device? device = null) where TModel : nn.Module
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(corpus);
        Guard.Positive(options.Steps, nameof(options.Steps));
        Guard.Positive(options.BatchSize, nameof(options.BatchSize));
        Guard.Positive(options.ContextLength, nameof(options.ContextLength));
        if (options.WarmupSteps < 0 || options.WarmupSteps >= options.Steps)
            throw new ArgumentException($"WarmupSteps ({options.WarmupSteps}) must be 0 or more and fewer than Steps ({options.Steps}).", nameof(options));
        device ??= CPU;
        manual_seed(seed);
        var model = build();
        model.to(device);
        Func<Tensor, Tensor, Tensor> lossOf = (x, y) => loss(model, x, y);
        using var optimizer = optim.AdamW(model.parameters(), options.LearningRate, 0.9, 0.99, 1e-8, options.WeightDecay);
        var schedule = new WarmupCosineSchedule(options.LearningRate, options.LearningRate / 10, options.WarmupSteps, options.Steps);
        var batches = new Generator((ulong)seed);
        var loop = new TrainingLoop<(Tensor Inputs, Tensor Targets)>(model, optimizer,
            () => corpus.Batch(false, options.BatchSize, options.ContextLength, batches, device),
            batch => lossOf(batch.Inputs, batch.Targets),
            new TrainingLoopOptions(options.Steps, s => schedule.At(s - 1), options.GradientClip));
        loop.Run();
        model.eval();
        long parameters = model.parameters().Sum(p => p.NumberOfElements);
        return new ShortRun(name, seed, model, lossOf, parameters, [.. loop.History]);
    }
}
