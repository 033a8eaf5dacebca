using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Training;

/// <summary>
/// Trains the capstone GPT: AdamW with decoupled weight decay on matrices only (Loshchilov and Hutter,
/// 2019), warm-up + cosine learning rate, gradient clipping, periodic evaluation on fixed batches,
/// atomic checkpoints with everything needed to resume bit-for-bit on the CPU. The steps themselves are
/// <see cref="TrainingLoop{TBatch}"/>'s; this class adds the model, the optimizer groups, evaluation and checkpoints.
/// </summary>
public sealed class GptTrainer : IDisposable
{
    public const string CheckpointFile = "ckpt.bin";

    /// <summary>Weights-only copy of the model at its best validation loss so far (nanoGPT keeps only this one).</summary>
    public const string BestCheckpointFile = "best.bin";

    private readonly TokenCorpus corpus;
    private readonly TrainingLoop<(Tensor Inputs, Tensor Targets)> loop;
    private readonly WarmupCosineSchedule schedule;
    private readonly string? outputFolder;
    private readonly long nonEmbeddingParameters;
    private double bestValidationLoss = double.PositiveInfinity;

    /// <param name="outputFolder">Where checkpoints and CSVs go; null keeps everything in memory.</param>
    /// <param name="resume">Continue from the checkpoint in <paramref name="outputFolder"/>.</param>
    public GptTrainer(TrainingRecipe recipe, CharTokenizer tokenizer, TokenCorpus corpus, Device device, string? outputFolder = null, bool resume = false)
    {
        Recipe = recipe;
        Tokenizer = tokenizer;
        this.corpus = corpus;
        Device = device;
        this.outputFolder = outputFolder;
        schedule = new WarmupCosineSchedule(recipe.LearningRate, recipe.MinLearningRate, recipe.WarmupSteps, recipe.Steps);

        manual_seed(recipe.Seed);
        Model = new GptModel(recipe.ModelConfig(tokenizer.VocabSize));
        Model.to(device);
        nonEmbeddingParameters = Model.ParameterCount - (long)recipe.ContextLength * recipe.Width;
        var decay = Model.parameters().Where(p => p.dim() >= 2).ToList();
        var noDecay = Model.parameters().Where(p => p.dim() < 2).ToList();
        Optimizer = optim.AdamW(
            [
                new AdamW.ParamGroup(decay, new AdamW.Options { weight_decay = recipe.WeightDecay }),
                new AdamW.ParamGroup(noDecay, new AdamW.Options { weight_decay = 0.0 }),
            ],
            recipe.LearningRate, recipe.Beta1, recipe.Beta2, 1e-8, recipe.WeightDecay);
        BatchGenerator = new Generator((ulong)recipe.Seed);
        string kept = outputFolder is null ? "(none: no output folder)" : $"in '{outputFolder}'";
        loop = new TrainingLoop<(Tensor Inputs, Tensor Targets)>(Model, Optimizer,
            () => corpus.Batch(false, recipe.BatchSize, recipe.ContextLength, BatchGenerator, device),
            batch => Model.Loss(batch.Inputs, batch.Targets),
            new TrainingLoopOptions(recipe.Steps, step => schedule.At(step - 1), recipe.GradientClip, recipe.EvalInterval,
                $"The last good checkpoint {kept} was kept. Try a lower learning rate or stronger clipping."),
            evaluate: _ => EvaluateAndSave());
        loop.StepCompleted += s =>
        {
            var record = new StepRecord(s.Step, s.Loss, s.LearningRate, s.Milliseconds, Recipe.BatchSize * Recipe.ContextLength / (s.Milliseconds / 1000),
                s.GradientNorm ?? double.NaN);
            Metrics.Steps.Add(record);
            StepCompleted?.Invoke(record);
        };

        if (resume)
        {
            if (outputFolder is null) throw new ArgumentException("resume needs an output folder that holds a checkpoint.", nameof(resume));
            var path = Path.Combine(outputFolder, CheckpointFile);
            var info = Checkpoint.Load(path, Model, Optimizer, BatchGenerator);
            if (info.Alphabet != new string(tokenizer.Symbols.ToArray()))
                throw new ArgumentException($"The checkpoint in '{outputFolder}' was trained with a different alphabet.", nameof(tokenizer));
            Step = info.Step;
            Metrics = TrainingMetrics.ReadCsv(outputFolder, Step);
            var best = Path.Combine(outputFolder, BestCheckpointFile);
            if (File.Exists(best)) bestValidationLoss = Checkpoint.ReadInfo(best).ValidationLoss ?? double.PositiveInfinity;
        }
    }

    public TrainingRecipe Recipe { get; }
    public CharTokenizer Tokenizer { get; }
    public Device Device { get; }
    public GptModel Model { get; }
    public AdamW Optimizer { get; }
    public Generator BatchGenerator { get; }
    public TrainingMetrics Metrics { get; } = new();

    /// <summary>Steps completed so far.</summary>
    public int Step { get => loop.Step; private set => loop.Step = value; }

    /// <summary>Training FLOPs in one step (see <see cref="FlopCounter"/>).</summary>
    public double FlopsPerStep => FlopCounter.PerStep(Model.Config, nonEmbeddingParameters, Recipe.BatchSize);

    public event Action<StepRecord>? StepCompleted;
    public event Action<EvalRecord>? Evaluated;

    /// <summary>Trains until the recipe's last step, or until <paramref name="stopAfterStep"/>; evaluates and saves a
    /// checkpoint every <c>EvalInterval</c> steps and where the run stops.</summary>
    public void Run(int? stopAfterStep = null) => loop.Run(stopAfterStep);

    /// <summary>One optimisation step; returns its loss.</summary>
    public double TrainStep() => loop.TrainStep().Loss;

    /// <summary>Mean loss on the same <c>EvalBatches</c> batches of each split every time.</summary>
    public EvalRecord Evaluate()
    {
        Model.eval();
        using var noGrad = no_grad();
        double Mean(bool validation)
        {
            var generator = new Generator((ulong)Recipe.Seed + 1);
            double sum = 0;
            for (int i = 0; i < Recipe.EvalBatches; i++)
            {
                using var scope = NewDisposeScope();
                var (x, y) = corpus.Batch(validation, Recipe.BatchSize, Recipe.ContextLength, generator, Device);
                sum += Model.Loss(x, y).item<float>();
            }
            return sum / Recipe.EvalBatches;
        }
        var record = new EvalRecord(Step, Mean(false), Mean(true));
        Model.train();
        return record;
    }

    void EvaluateAndSave()
    {
        var record = Evaluate();
        Metrics.Evaluations.Add(record);
        Evaluated?.Invoke(record);
        if (outputFolder is null) return;
        var info = new CheckpointInfo(Step, Recipe, Model.Config, new string(Tokenizer.Symbols.ToArray()), record.ValidationLoss);
        Checkpoint.Save(Path.Combine(outputFolder, CheckpointFile), info, Model, Optimizer, BatchGenerator);
        if (record.ValidationLoss < bestValidationLoss)
        {
            bestValidationLoss = record.ValidationLoss;
            Checkpoint.Save(Path.Combine(outputFolder, BestCheckpointFile), info, Model, optimizer: null, batchGenerator: null);
        }
        Metrics.WriteCsv(outputFolder);
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        Model.Dispose();
    }
}
