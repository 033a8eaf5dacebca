using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Scaling;

/// <summary>
/// A family of character GPTs that differ only in width (and so in size): the same depth, head width, context, batches,
/// optimizer and learning rate. Each model is trained once for <c>EvalSteps.Max()</c> steps and evaluated after each
/// step count in <see cref="EvalSteps"/>: with a constant learning rate after warm-up, the first s steps of a longer run are
/// exactly a run of s steps, so one run gives the loss at every token budget.
/// </summary>
/// <param name="HeadWidth">Each model gets width / HeadWidth heads (at least 1).</param>
/// <param name="EvalBatches">Validation loss is the mean over this many fixed batches (the same for every model and budget).</param>
public sealed record ScalingSweepOptions(int[] Widths, int[] EvalSteps, int Layers = 2, int HeadWidth = 16, int ContextLength = 64,
    int BatchSize = 16, double LearningRate = 3e-3, int WarmupSteps = 20, int EvalBatches = 16, int Seed = 0)
{
    public int Steps => EvalSteps.Max();
    public int TokensPerStep => BatchSize * ContextLength;

    public ScalingSweepOptions Validated()
    {
        if (Widths is null || Widths.Length == 0) throw new ArgumentException("Widths must list at least one model width.", nameof(Widths));
        if (EvalSteps is null || EvalSteps.Length == 0) throw new ArgumentException("EvalSteps must list at least one step count.", nameof(EvalSteps));
        if (EvalSteps.Any(s => s <= 0) || !EvalSteps.SequenceEqual(EvalSteps.Order().Distinct()))
            throw new ArgumentException($"EvalSteps must be positive and strictly increasing but is [{string.Join(", ", EvalSteps)}].", nameof(EvalSteps));
        foreach (var w in Widths)
        {
            int heads = Math.Max(1, w / HeadWidth);
            if (w <= 0 || w % heads != 0)
                throw new ArgumentException($"Width {w} must be positive and divisible by its {heads} heads (HeadWidth {HeadWidth}).", nameof(Widths));
        }
        Guard.Positive(Layers, nameof(Layers));
        Guard.Positive(ContextLength, nameof(ContextLength));
        Guard.Positive(BatchSize, nameof(BatchSize));
        Guard.Positive(LearningRate, nameof(LearningRate));
        Guard.Positive(EvalBatches, nameof(EvalBatches));
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "WarmupSteps must be 0 or more.");
        return this;
    }

    public GptConfig ModelConfig(int vocabSize, int width) =>
        new GptConfig(vocabSize, ContextLength, Layers, Math.Max(1, width / HeadWidth), width).Validated();
}

/// <summary>One model of the family: its size, and its validation loss after each token budget.</summary>
/// <param name="NonEmbeddingParameters">Kaplan et al.'s N: everything but the token and position tables (the head is tied).</param>
/// <param name="Tokens">Training tokens seen at each evaluation (steps × batch × context).</param>
/// <param name="ValidationStandardError">Standard error of each mean over the evaluation batches.</param>
public sealed record ScalingRun(int Layers, int Width, int Heads, long NonEmbeddingParameters, long TotalParameters,
    int[] Steps, double[] Tokens, double[] ValidationLoss, double[] ValidationStandardError, double Seconds)
{
    /// <summary>The loss after the last (largest) budget.</summary>
    public double FinalLoss => ValidationLoss[^1];

    public double MillisecondsPerStep => 1000 * Seconds / Steps[^1];
}

/// <summary>Trains a <see cref="ScalingSweepOptions"/> family through the course's <see cref="TrainingLoop{TBatch}"/>.</summary>
public static class ScalingSweep
{
    public static IReadOnlyList<ScalingRun> Run(TokenCorpus corpus, int vocabSize, ScalingSweepOptions options, Device? device = null,
        Action<ScalingRun>? completed = null)
    {
        options.Validated();
        device ??= CPU;
        var runs = new List<ScalingRun>();
        var validation = ValidationBatches(corpus, options, device);
        try
        {
            foreach (var width in options.Widths)
            {
                var run = Train(corpus, vocabSize, width, options, validation, device);
                runs.Add(run);
                completed?.Invoke(run);
            }
        }
        finally
        {
            foreach (var (x, y) in validation) { x.Dispose(); y.Dispose(); }
        }
        return runs;
    }

    /// <summary>The fixed validation batches every model and budget is scored on.</summary>
    static List<(Tensor X, Tensor Y)> ValidationBatches(TokenCorpus corpus, ScalingSweepOptions options, Device device)
    {
        var generator = new Generator((ulong)options.Seed + 1);
        return Enumerable.Range(0, options.EvalBatches).Select(_ =>
        {
            var (x, y) = corpus.Batch(true, options.BatchSize, options.ContextLength, generator, device);
            return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
        }).ToList();
    }

    static ScalingRun Train(TokenCorpus corpus, int vocabSize, int width, ScalingSweepOptions options, List<(Tensor X, Tensor Y)> validation, Device device)
    {
        var config = options.ModelConfig(vocabSize, width);
        manual_seed(options.Seed);
        using var model = new GptModel(config);
        model.to(device);
        long total = model.ParameterCount;
        long nonEmbedding = total - (long)(vocabSize + options.ContextLength) * width;
        using var optimizer = optim.AdamW(model.parameters(), options.LearningRate, 0.9, 0.99, weight_decay: 0.0);
        var generator = new Generator((ulong)options.Seed);   // every model sees the same batches
        var losses = new List<double>();
        var errors = new List<double>();
        var loop = new TrainingLoop<(Tensor Inputs, Tensor Targets)>(model, optimizer,
            () => corpus.Batch(false, options.BatchSize, options.ContextLength, generator, device),
            batch => model.Loss(batch.Inputs, batch.Targets),
            new TrainingLoopOptions(options.Steps,
                LearningRateAt: s => options.LearningRate * Math.Min(1.0, s / (double)Math.Max(1, options.WarmupSteps)), GradientClip: 1.0),
            evaluate: _ =>
            {
                var values = validation.Select(b => model.Loss(b.X, b.Y).to_type(ScalarType.Float64).item<double>()).ToArray();
                double mean = values.Average();
                double sd = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
                losses.Add(mean);
                errors.Add(sd / Math.Sqrt(values.Length));
            });
        var watch = Stopwatch.StartNew();
        foreach (var stop in options.EvalSteps) loop.Run(stop);
        var tokens = options.EvalSteps.Select(s => (double)s * options.TokensPerStep).ToArray();
        return new ScalingRun(config.Layers, width, config.Heads, nonEmbedding, total, options.EvalSteps.ToArray(), tokens,
            losses.ToArray(), errors.ToArray(), watch.Elapsed.TotalSeconds);
    }
}
