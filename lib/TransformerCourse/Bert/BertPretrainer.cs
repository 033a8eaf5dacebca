using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Training;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>
/// How the lesson-13 mini-BERT is pretrained: model shape, tokenizer size, batch, steps, AdamW with a linear warm-up
/// and linear decay (BERT's schedule, Devlin et al., 2019, Appendix A.2), and the held-out evaluation.
/// <see cref="Masking"/> and <see cref="NspWeight"/> let later lessons run RoBERTa's ablations (dynamic vs static
/// masking, no NSP); <see cref="Norm"/> picks Post-LN (BERT, the default) or Pre-LN blocks.
/// </summary>
public sealed record BertPretrainingRecipe(
    int Steps = 1000, int BatchSize = 64, double LearningRate = 2e-3, int WarmupSteps = 50, int EvalInterval = 100,
    int Seed = 0, int MaxLength = 48, int VocabSize = BertTokenizer.DefaultVocabSize,
    int Width = 128, int Heads = 4, int Layers = 2, int FeedForwardWidth = 512, double Dropout = 0.0,
    double WeightDecay = 0.01, double GradientClip = 1.0, int HeldOutPairs = 1024,
    MaskingMode Masking = MaskingMode.Dynamic, double NspWeight = 1.0, NormPlacement Norm = NormPlacement.Post)
{
    /// <summary>The recipe lesson 13 trains and saves (about two minutes on two CPU cores).</summary>
    public static BertPretrainingRecipe Lesson13 { get; } = new();

    /// <summary>The model this recipe trains, for a tokenizer of <paramref name="vocabSize"/> ids (specials included).</summary>
    public BertConfig Config(int vocabSize) => new(vocabSize, Width, Heads, Layers, FeedForwardWidth, MaxLength, Dropout, Norm: Norm);

    /// <summary>Linear warm-up to the peak, then linear decay to 0 at <see cref="Steps"/>, for a 1-based step.</summary>
    public double LearningRateAt(int step) => step <= WarmupSteps
        ? LearningRate * step / Math.Max(1, WarmupSteps)
        : LearningRate * Math.Max(0, Steps - step + 1) / Math.Max(1, Steps - WarmupSteps + 1);

    /// <summary>Seed of the static masks of the held-out batches (the same masked tokens at every evaluation).</summary>
    public long HeldOutMaskSeed => Seed + 7919;
}

/// <summary>One point of the pretraining curve: the step, the training losses averaged since the previous point, and the held-out scores.</summary>
public sealed record BertCurvePoint(int Step, double TrainMlmLoss, double TrainNspLoss, double HeldOutMlmLoss, double HeldOutMlmAccuracy,
    double HeldOutNspLoss, double HeldOutNspAccuracy);

/// <summary>
/// Pretrains a <see cref="BertModel"/> on <see cref="BertPretrainingData"/> through the course's one
/// <see cref="TrainingLoop{TBatch}"/>, with <see cref="BertPretraining.Loss"/> as the loss and an evaluation on fixed
/// held-out masked batches every EvalInterval steps (and at step 0).
/// </summary>
public sealed class BertPretrainer
{
    private readonly TrainingLoop<BertBatch> loop;
    private readonly List<BertBatch> heldOut;
    private readonly Generator generator;
    private double mlmSum, nspSum;
    private int sinceLast;

    public BertPretrainer(BertPretrainingData data, BertPretrainingRecipe recipe, Device? device = null)
    {
        Recipe = recipe;
        Data = data;
        Device = device ?? CPU;
        manual_seed(recipe.Seed);
        Model = new BertModel(recipe.Config(data.Tokenizer.VocabSize));
        Model.to(Device);
        var decay = Model.parameters().Where(p => p.dim() >= 2).ToList();
        var noDecay = Model.parameters().Where(p => p.dim() < 2).ToList();
        Optimizer = optim.AdamW(
            [
                new AdamW.ParamGroup(decay, new AdamW.Options { weight_decay = recipe.WeightDecay }),
                new AdamW.ParamGroup(noDecay, new AdamW.Options { weight_decay = 0.0 }),
            ],
            recipe.LearningRate, 0.9, 0.999, 1e-6, recipe.WeightDecay);
        generator = new Generator((ulong)recipe.Seed + 1);
        heldOut = data.HeldOut.FixedBatches(256, recipe.HeldOutMaskSeed, Device, recipe.HeldOutPairs);
        loop = new TrainingLoop<BertBatch>(Model, Optimizer,
            () => data.Train.Sample(recipe.BatchSize, generator, Device, recipe.Masking, null, recipe.Seed),
            batch => BertPretraining.Loss(Model, batch, recipe.NspWeight),
            new TrainingLoopOptions(recipe.Steps, recipe.LearningRateAt, recipe.GradientClip, recipe.EvalInterval),
            evaluate: step => Record(step));
        loop.StepCompleted += s =>
        {
            mlmSum += s.Metrics["mlm_loss"];
            nspSum += s.Metrics["nsp_loss"];
            sinceLast++;
        };
    }

    public BertPretrainingRecipe Recipe { get; }
    public BertPretrainingData Data { get; }
    public Device Device { get; }
    public BertModel Model { get; }
    public optim.Optimizer Optimizer { get; }

    /// <summary>The loop's per-step records (loss, learning rate, gradient norm, mlm_loss, nsp_loss, accuracies).</summary>
    public IReadOnlyList<TrainingStep> History => loop.History;

    /// <summary>Held-out scores at step 0 and every EvalInterval steps.</summary>
    public List<BertCurvePoint> Curve { get; } = [];

    /// <summary>The fixed held-out batches the curve is measured on.</summary>
    public IReadOnlyList<BertBatch> HeldOutBatches => heldOut;

    /// <summary>Called after each evaluation (e.g. to print a progress line).</summary>
    public event Action<BertCurvePoint>? Evaluated;

    /// <summary>Training wall time of <see cref="Run"/>, evaluations included.</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>Evaluates at step 0, then trains to <see cref="BertPretrainingRecipe.Steps"/>.</summary>
    public void Run()
    {
        var watch = Stopwatch.StartNew();
        if (Curve.Count == 0) loop.Evaluate();
        loop.Run();
        Model.eval();
        Elapsed = watch.Elapsed;
    }

    void Record(int step)
    {
        var scores = BertPretraining.Evaluate(Model, heldOut);
        var point = new BertCurvePoint(step, sinceLast == 0 ? double.NaN : mlmSum / sinceLast, sinceLast == 0 ? double.NaN : nspSum / sinceLast,
            scores.MlmLoss, scores.MlmAccuracy, scores.NspLoss, scores.NspAccuracy);
        (mlmSum, nspSum, sinceLast) = (0, 0, 0);
        Curve.Add(point);
        Evaluated?.Invoke(point);
    }
}
