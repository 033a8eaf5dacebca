using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.InContext;

/// <summary>How the attention-only models are trained: AdamW at a constant rate, clipping at 1, fixed seeds.</summary>
/// <param name="EvalInterval">Every this many steps the copy losses are measured on a fixed evaluation batch.</param>
/// <param name="EvalSequences">Size of that fixed batch (drawn with seed Seed + 1, the same for every model).</param>
public sealed record InductionRunOptions(int Steps = 800, int BatchSize = 32, double LearningRate = 1e-3, int Seed = 0,
    int EvalInterval = 50, int EvalSequences = 256);

/// <summary>Copy losses on the fixed evaluation batch after <paramref name="Step"/> training steps.</summary>
public sealed record CopyLossPoint(int Step, double FirstCopy, double SecondCopy);

/// <summary>One trained attention-only model and what was measured on the way.</summary>
/// <param name="Induction">[layer][head] induction score on the evaluation batch after training.</param>
/// <param name="PreviousToken">[layer][head] previous-token score on the evaluation batch after training.</param>
public sealed record InductionRun(string Name, AttentionOnlyTransformer Model, IReadOnlyList<TrainingStep> History,
    IReadOnlyList<CopyLossPoint> Curve, double FirstCopyLoss, double SecondCopyLoss, double[][] Induction, double[][] PreviousToken,
    double Seconds) : IDisposable
{
    /// <summary>The largest induction score of any head, and where (0-based layer and head).</summary>
    public (double Score, int Layer, int Head) BestInductionHead => Best(Induction);

    /// <summary>The largest previous-token score of any head, and where (0-based layer and head).</summary>
    public (double Score, int Layer, int Head) BestPreviousTokenHead => Best(PreviousToken);

    static (double, int, int) Best(double[][] scores)
    {
        (double Score, int Layer, int Head) best = (double.NegativeInfinity, 0, 0);
        for (int l = 0; l < scores.Length; l++)
            for (int h = 0; h < scores[l].Length; h++)
                if (scores[l][h] > best.Score) best = (scores[l][h], l, h);
        return best;
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Trains <see cref="AttentionOnlyTransformer"/>s on the <see cref="RepeatedSegmentTask"/> with the ordinary next-token
/// loss of lesson 16, through the course's one <see cref="TrainingLoop{TBatch}"/>, and measures copy losses and head scores.
/// </summary>
public static class InductionExperiment
{
    public static InductionRun Train(string name, RepeatedSegmentTask task, GptConfig config, InductionRunOptions options, Device? device = null)
    {
        device ??= CPU;
        task.Validated();
        if (task.Length > config.ContextLength)
            throw new ArgumentException($"task.Length {task.Length} exceeds the model's context length {config.ContextLength}.", nameof(task));
        if (task.VocabSize != config.VocabSize)
            throw new ArgumentException($"task.VocabSize {task.VocabSize} differs from config.VocabSize {config.VocabSize}.", nameof(config));
        manual_seed(options.Seed);
        var model = new AttentionOnlyTransformer(config);
        model.to(device);
        using var evalBatch = task.Sample(options.EvalSequences, new Random(options.Seed + 1), device);
        var random = new Random(options.Seed);
        var curve = new List<CopyLossPoint>();
        using var optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: 0.0);
        var loop = new TrainingLoop<RepeatedSegmentBatch>(model, optimizer,
            () => task.Sample(options.BatchSize, random, device),
            batch => NextTokenLoss.Mean(model.forward(batch.Tokens), batch.Tokens),
            new TrainingLoopOptions(options.Steps, GradientClip: 1.0, EvalInterval: options.EvalInterval),
            evaluate: step =>
            {
                var (first, second) = CopyLosses(model, evalBatch);
                curve.Add(new CopyLossPoint(step, first, second));
            });
        var watch = Stopwatch.StartNew();
        loop.Evaluate(); // the copy losses at initialisation (step 0)
        loop.Run();
        double seconds = watch.Elapsed.TotalSeconds;
        using var trace = model.Trace(evalBatch.Tokens);
        using var induction = InductionScores.Induction(trace.Weights, evalBatch);
        using var previous = InductionScores.PreviousToken(trace.Weights, evalBatch);
        var last = curve[^1];
        return new InductionRun(name, model, loop.History, curve, last.FirstCopy, last.SecondCopy, Rows(induction), Rows(previous), seconds);
    }

    /// <summary>Mean first-copy and second-copy loss of <paramref name="model"/> on <paramref name="batch"/> (no gradients).</summary>
    public static (double FirstCopy, double SecondCopy) CopyLosses(AttentionOnlyTransformer model, RepeatedSegmentBatch batch)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var perPosition = NextTokenLoss.PerPosition(model.forward(batch.Tokens), batch.Tokens);
        return InductionScores.CopyLosses(perPosition, batch);
    }

    /// <summary>Loss of each prediction (predicting token p + 1 for p = 0 … T − 2), averaged over the batch.</summary>
    public static double[] MeanLossByPosition(AttentionOnlyTransformer model, RepeatedSegmentBatch batch)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var perPosition = NextTokenLoss.PerPosition(model.forward(batch.Tokens), batch.Tokens);
        return perPosition.mean(new long[] { 0 }).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
    }

    static double[][] Rows(Tensor scores)
    {
        using var s = scores.to_type(ScalarType.Float64).cpu();
        int layers = (int)s.shape[0], heads = (int)s.shape[1];
        var flat = s.data<double>().ToArray();
        return Enumerable.Range(0, layers).Select(l => flat.Skip(l * heads).Take(heads).ToArray()).ToArray();
    }
}
