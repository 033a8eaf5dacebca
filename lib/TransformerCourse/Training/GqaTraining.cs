using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Training;

/// <summary>How Lesson 18 trains its grouped-query GPTs: the same data, schedule and evaluation batches for every run.</summary>
public sealed record GqaTrainingOptions(int Steps = 300, int BatchSize = 16, double LearningRate = 3e-3, int WarmupSteps = 30,
    double GradientClip = 1.0, int EvalBatches = 16, int EvalSeed = 12345);

/// <summary>One trained model and its losses (mean over the same fixed batches for every run).</summary>
public sealed record GqaTrainingResult(int KvHeads, int Seed, double TrainLoss, double ValidationLoss, long Parameters, GqaGptModel Model);

/// <summary>
/// Trains a <see cref="GqaGptModel"/> briefly through the course's one <see cref="TrainingLoop{TBatch}"/> (AdamW, warm-up
/// then cosine, clipping). The seed fixes both the initial weights and the order of the training batches, so runs that
/// differ only in the number of key/value heads see the same batches in the same order.
/// </summary>
public static class GqaTraining
{
    public static GqaTrainingResult Train(GptConfig config, int kvHeads, TokenCorpus corpus, int seed, GqaTrainingOptions? options = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        options ??= new GqaTrainingOptions();
        Guard.Positive(options.Steps, nameof(options.Steps));
        Guard.Positive(options.BatchSize, nameof(options.BatchSize));
        Guard.Positive(options.EvalBatches, nameof(options.EvalBatches));
        device ??= CPU;
        manual_seed(seed);
        var model = new GqaGptModel(config, kvHeads);
        model.to(device);
        using var optimizer = optim.AdamW(model.parameters(), options.LearningRate, 0.9, 0.99, 1e-8, 0.1);
        var schedule = new WarmupCosineSchedule(options.LearningRate, options.LearningRate / 10, options.WarmupSteps, options.Steps);
        var batches = new Generator((ulong)seed);
        var loop = new TrainingLoop<(Tensor Inputs, Tensor Targets)>(model, optimizer,
            () => corpus.Batch(false, options.BatchSize, config.ContextLength, batches, device),
            batch => model.Loss(batch.Inputs, batch.Targets),
            new TrainingLoopOptions(options.Steps, s => schedule.At(s - 1), options.GradientClip));
        loop.Run();
        model.eval();
        return new GqaTrainingResult(kvHeads, seed, Evaluate(model, corpus, false, options, device), Evaluate(model, corpus, true, options, device),
            model.ParameterCount, model);
    }

    /// <summary>Mean loss over <c>EvalBatches</c> batches drawn with <c>EvalSeed</c>: the same batches for every model.</summary>
    public static double Evaluate(GqaGptModel model, TokenCorpus corpus, bool validation, GqaTrainingOptions options, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var generator = new Generator((ulong)options.EvalSeed);
            double sum = 0;
            for (int i = 0; i < options.EvalBatches; i++)
            {
                using var scope = NewDisposeScope();
                var (x, y) = corpus.Batch(validation, options.BatchSize, model.Config.ContextLength, generator, device);
                sum += model.Loss(x, y).item<float>();
            }
            return sum / options.EvalBatches;
        }
        finally
        {
            model.train(training);
        }
    }
}
