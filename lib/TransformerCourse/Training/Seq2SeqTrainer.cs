using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Training;

/// <summary>How <see cref="Seq2SeqTrainer"/> trains: the paper's recipe (Adam β = (0.9, 0.98), ε = 1e−9, the
/// <see cref="NoamSchedule"/>, label smoothing 0.1) plus gradient clipping. The defaults train
/// <see cref="TransformerConfig.Small"/> on <see cref="SyntheticTranslation"/> to ≥ 99 % held-out exact match
/// (measured: 1000 steps, about 45 s on 2 CPU cores).</summary>
/// <param name="LearningRateFactor">Multiplies the Noam rate (peak 0.5 · (64 · 200)^−0.5 ≈ 4.4e−3 for the small model).</param>
/// <param name="Seed">Seeds the order of training batches (the model's initial weights follow TorchSharp's seed).</param>
public sealed record Seq2SeqTrainingOptions(
    int Steps = 1000, int BatchSize = 64, int WarmupSteps = 200, double LearningRateFactor = 0.5,
    double LabelSmoothing = 0.1, double GradientClip = 1.0, int Seed = 0);

/// <summary>One training step's numbers.</summary>
public sealed record Seq2SeqStep(int Step, double Loss, double LearningRate);

/// <summary>Teacher-forced training of an <see cref="EncoderDecoderTransformer"/> on <see cref="SyntheticTranslation"/>,
/// and exact-match evaluation with greedy decoding.</summary>
public static class Seq2SeqTrainer
{
    /// <summary>Trains for options.Steps steps on batches drawn with Random(options.Seed); returns every step's loss and rate.</summary>
    public static List<Seq2SeqStep> Fit(EncoderDecoderTransformer model, SyntheticTranslation task, Seq2SeqTrainingOptions options,
        Action<Seq2SeqStep>? onStep = null)
    {
        Guard.Positive(options.Steps, nameof(options.Steps));
        Guard.Positive(options.BatchSize, nameof(options.BatchSize));
        if (task.Vocabulary.Count > model.Config.VocabSize)
            throw new ArgumentException(
                $"the task's vocabulary has {task.Vocabulary.Count} tokens but the model only {model.Config.VocabSize} (VocabSize).", nameof(task));
        var schedule = new NoamSchedule(model.Config.Width, options.WarmupSteps, options.LearningRateFactor);
        var device = model.parameters().First().device;
        var special = task.Vocabulary.Special;
        var random = new Random(options.Seed);
        using var optimizer = optim.Adam(model.parameters(), schedule.At(1), 0.9, 0.98, 1e-9);
        var loop = new TrainingLoop<Seq2SeqBatch>(model, optimizer,
            () => task.Batch(task.Sample(options.BatchSize, random), device),
            batch => LabelSmoothedCrossEntropy.Compute(
                model.forward(batch.Source, batch.TargetInput,
                    Seq2SeqMasks.Source(batch.Source, special.Pad), Seq2SeqMasks.Target(batch.TargetInput, special.Pad)),
                batch.TargetOutput, options.LabelSmoothing, special.Pad),
            new TrainingLoopOptions(options.Steps, schedule.At, options.GradientClip, DivergenceHint: "Lower LearningRateFactor."));
        var history = new List<Seq2SeqStep>(options.Steps);
        loop.StepCompleted += s =>
        {
            history.Add(new Seq2SeqStep(s.Step, s.Loss, s.LearningRate));
            onStep?.Invoke(history[^1]);
        };
        loop.Run();
        model.eval();
        return history;
    }

    /// <summary>Greedy translations of the given source texts.</summary>
    public static string[] Translate(EncoderDecoderTransformer model, SyntheticTranslation task, IReadOnlyList<string> sources)
    {
        if (sources.Count == 0) return [];
        var device = model.parameters().First().device;
        var ids = sources.Select(task.Vocabulary.Encode).ToArray();
        using var batch = Seq2SeqBatch.From(ids, ids.Select(_ => Array.Empty<long>()).ToArray(), task.Vocabulary.Special, device);
        var decoded = Seq2SeqDecoding.Greedy(model, batch.Source, task.Vocabulary.Special, task.MaxTargetLength);
        return decoded.Select(h => task.Vocabulary.Decode(h.Tokens)).ToArray();
    }

    /// <summary>Fraction of examples whose greedy translation equals the target exactly.</summary>
    public static double ExactMatch(EncoderDecoderTransformer model, SyntheticTranslation task, IReadOnlyList<TranslationExample> examples,
        int batchSize = 512)
    {
        if (examples.Count == 0) throw new ArgumentException("examples must not be empty.", nameof(examples));
        Guard.Positive(batchSize, nameof(batchSize));
        int correct = 0;
        foreach (var chunk in examples.Chunk(batchSize))
        {
            var outputs = Translate(model, task, chunk.Select(e => e.Source).ToArray());
            correct += outputs.Where((o, i) => o == chunk[i].Target).Count();
        }
        return (double)correct / examples.Count;
    }
}
