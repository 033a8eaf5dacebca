using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.MoE;

/// <summary>How the lesson's small models are trained: AdamW at a constant rate, clipping at 1, fixed seeds.</summary>
/// <param name="BalanceWeight">α in loss = cross-entropy + α · balancing loss (Switch uses 0.01); 0 switches it off.</param>
/// <param name="WindowSteps">Utilisation is averaged over windows of this many steps (one heatmap row per window).</param>
public sealed record MoeRunOptions(int Steps = 300, int BatchSize = 16, int ContextLength = 64, double LearningRate = 3e-3,
    double BalanceWeight = 0.01, int Seed = 0, int WindowSteps = 25, int EvalBatches = 8);

/// <summary>One trained model and what was measured on the way.</summary>
/// <param name="Utilisation">[layer][window][expert]: share of tokens whose first choice was the expert, averaged over the window's steps.</param>
/// <param name="WindowEnds">The last step of each window.</param>
/// <param name="DroppedShare">Per step: dropped assignments averaged over layers (all 0 for the dense model).</param>
public sealed record MoeRunResult(string Name, nn.Module<Tensor, Tensor> Model, IReadOnlyList<TrainingStep> History, double ValidationLoss,
    double[][][] Utilisation, int[] WindowEnds, double[] DroppedShare, long TotalParameters, long ActiveParameters, double Seconds) : IDisposable
{
    /// <summary>Largest share of first choices any expert got in the last window, over all layers.</summary>
    public double FinalMaxShare => Utilisation.Length == 0 ? 1 : Utilisation.Max(layer => layer[^1].Max());

    /// <summary>Entropy of the last window's first-choice shares divided by ln N, averaged over layers: 1 = perfectly even, 0 = one expert.</summary>
    public double FinalEvenness => Utilisation.Length == 0 ? 1 : Utilisation.Average(layer => Evenness(layer[^1]));

    /// <summary>The largest share of first choices any expert got in any window of any layer, and where (0-based layer and window).</summary>
    public (double Share, int Layer, int Window) PeakShare
    {
        get
        {
            (double Share, int Layer, int Window) best = (0, 0, 0);
            for (int l = 0; l < Utilisation.Length; l++)
                for (int w = 0; w < Utilisation[l].Length; w++)
                    if (Utilisation[l][w].Length > 0 && Utilisation[l][w].Max() > best.Share) best = (Utilisation[l][w].Max(), l, w);
            return best;
        }
    }

    /// <summary>Mean dropped share over the last window.</summary>
    public double FinalDroppedShare => DroppedShare.Length == 0 ? 0 : DroppedShare.TakeLast(WindowSize).Average();

    int WindowSize => WindowEnds.Length > 1 ? WindowEnds[^1] - WindowEnds[^2] : Math.Max(1, WindowEnds.FirstOrDefault());

    public static double Evenness(double[] shares)
    {
        if (shares.Length < 2) return 1;
        double h = -shares.Where(s => s > 0).Sum(s => s * Math.Log(s));
        return h / Math.Log(shares.Length);
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Trains the lesson's MoE GPT and its dense twin on the same batches through the course's one
/// <see cref="TrainingLoop{TBatch}"/>, recording validation loss, expert utilisation and dropped tokens.
/// </summary>
public static class MoeExperiment
{
    public static MoeRunResult TrainMoe(string name, TokenCorpus corpus, GptConfig gpt, MoeConfig moe, MoeRunOptions options, Device? device = null)
    {
        device ??= CPU;
        manual_seed(options.Seed);
        var model = new MoeGptModel(gpt, moe);
        model.to(device);
        int layers = gpt.Layers;
        var perStep = new List<IReadOnlyList<RoutingStats>>();
        var result = Train(name, model, corpus, gpt, options, device,
            batch =>
            {
                var losses = model.Losses(batch.Inputs, batch.Targets);
                perStep.Add(losses.Layers);
                var total = options.BalanceWeight > 0 ? losses.CrossEntropy + options.BalanceWeight * losses.BalanceLoss : losses.CrossEntropy.alias();
                return new BatchLoss(total, new Dictionary<string, Tensor> { ["cross-entropy"] = losses.CrossEntropy, ["balance"] = losses.BalanceLoss });
            },
            (x, y) => model.Losses(x, y).CrossEntropy);
        var windowEnds = WindowEnds(options.Steps, options.WindowSteps);
        var utilisation = Enumerable.Range(0, layers).Select(l => windowEnds.Select((end, w) =>
        {
            int start = w == 0 ? 0 : windowEnds[w - 1];
            var rows = perStep.Skip(start).Take(end - start).Select(s => s[l].FirstChoiceShare).ToList();
            return Enumerable.Range(0, moe.Experts).Select(e => rows.Average(r => r[e])).ToArray();
        }).ToArray()).ToArray();
        var dropped = perStep.Select(s => s.Average(l => l.DroppedShare)).ToArray();
        return result with
        {
            Utilisation = utilisation, WindowEnds = windowEnds, DroppedShare = dropped,
            TotalParameters = model.ParameterCount, ActiveParameters = model.ActiveParameterCount,
        };
    }

    public static MoeRunResult TrainDense(string name, TokenCorpus corpus, GptConfig gpt, MoeRunOptions options, Device? device = null)
    {
        device ??= CPU;
        manual_seed(options.Seed);
        var model = new GptModel(gpt);
        model.to(device);
        var result = Train(name, model, corpus, gpt, options, device, batch => model.Loss(batch.Inputs, batch.Targets), model.Loss);
        return result with { TotalParameters = model.ParameterCount, ActiveParameters = model.ParameterCount };
    }

    /// <summary>Mean validation cross-entropy on <c>EvalBatches</c> fixed batches (the same batches for every model).</summary>
    public static double ValidationLoss(Func<Tensor, Tensor, Tensor> loss, TokenCorpus corpus, MoeRunOptions options, Device device)
    {
        using var noGrad = no_grad();
        var generator = new Generator((ulong)options.Seed + 1);
        double sum = 0;
        for (int i = 0; i < options.EvalBatches; i++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = corpus.Batch(true, options.BatchSize, options.ContextLength, generator, device);
            sum += loss(x, y).to_type(ScalarType.Float64).item<double>();
        }
        return sum / options.EvalBatches;
    }

    static MoeRunResult Train(string name, nn.Module<Tensor, Tensor> model, TokenCorpus corpus, GptConfig gpt, MoeRunOptions options, Device device,
        Func<(Tensor Inputs, Tensor Targets), BatchLoss> loss, Func<Tensor, Tensor, Tensor> evalLoss)
    {
        if (options.ContextLength > gpt.ContextLength)
            throw new ArgumentException($"options.ContextLength {options.ContextLength} exceeds the model's context length {gpt.ContextLength}.", nameof(options));
        Guard.Positive(options.WindowSteps, nameof(options.WindowSteps));
        var optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: 0.0);
        var generator = new Generator((ulong)options.Seed);
        double validation = double.NaN;
        var loop = new TrainingLoop<(Tensor Inputs, Tensor Targets)>(model, optimizer,
            () => corpus.Batch(false, options.BatchSize, options.ContextLength, generator, device),
            loss,
            new TrainingLoopOptions(options.Steps, GradientClip: 1.0),
            evaluate: _ => validation = ValidationLoss(evalLoss, corpus, options, device));
        var watch = Stopwatch.StartNew();
        loop.Run();
        double seconds = watch.Elapsed.TotalSeconds;
        optimizer.Dispose();
        return new MoeRunResult(name, model, loop.History, validation, [], [], [], 0, 0, seconds);
    }

    static int[] WindowEnds(int steps, int window) =>
        Enumerable.Range(1, (steps + window - 1) / window).Select(w => Math.Min(steps, w * window)).ToArray();
}
