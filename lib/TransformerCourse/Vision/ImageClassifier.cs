using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Vision;

/// <summary>
/// Multinomial logistic regression on raw pixels: one linear layer from the H·W pixels to the class logits, the
/// baseline a vision model must beat. forward(images (B, H, W)) → logits (B, classes). Parameters (H·W + 1)·classes.
/// </summary>
public sealed class LogisticRegression : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear linear;

    public LogisticRegression(int pixels, int classes) : base(nameof(LogisticRegression))
    {
        Guard.Positive(pixels, nameof(pixels));
        Guard.Positive(classes, nameof(classes));
        linear = nn.Linear(pixels, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images) => linear.forward(images.flatten(1));
}

/// <summary>How an image classifier is trained: steps, batch size, peak learning rate (AdamW, warm-up then cosine), seed.</summary>
public sealed record ImageTrainingOptions(int Steps = 400, int BatchSize = 128, double LearningRate = 3e-3, double WeightDecay = 0.01,
    int WarmupSteps = 30, int Seed = 0);

/// <summary>Training and judging image classifiers (the ViT and the baseline alike) through the course's one <see cref="TrainingLoop{TBatch}"/>.</summary>
public static class ImageClassifier
{
    /// <summary>Trains <paramref name="model"/> on random batches of <paramref name="train"/> with cross-entropy; returns the finished loop (its History holds every step).</summary>
    public static TrainingLoop<(Tensor X, Tensor Y)> Train(nn.Module<Tensor, Tensor> model, ImageSet train, ImageTrainingOptions options)
    {
        Guard.Positive(options.Steps, nameof(options.Steps));
        Guard.Positive(options.BatchSize, nameof(options.BatchSize));
        var generator = new Generator((ulong)options.Seed);
        var schedule = new WarmupCosineSchedule(options.LearningRate, options.LearningRate / 20, options.WarmupSteps, options.Steps);
        var optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        var loop = new TrainingLoop<(Tensor X, Tensor Y)>(model, optimizer,
            nextBatch: () =>
            {
                var rows = randint(train.Count, [options.BatchSize], generator: generator);
                return (train.Images.index_select(0, rows), train.Labels.index_select(0, rows));
            },
            loss: batch => nn.functional.cross_entropy(model.forward(batch.X), batch.Y),
            new TrainingLoopOptions(options.Steps, s => schedule.At(s - 1), GradientClip: 1.0));
        loop.Run();
        return loop;
    }

    /// <summary>The predicted class of every image, in batches, without gradients and in eval mode.</summary>
    public static Tensor Predict(nn.Module<Tensor, Tensor> model, Tensor images, int batchSize = 1000)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var parts = new List<Tensor>();
            for (long start = 0; start < images.shape[0]; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var chunk = images[TensorIndex.Slice(start, Math.Min(start + batchSize, images.shape[0]))];
                parts.Add(model.forward(chunk).argmax(-1).MoveToOuterDisposeScope());
            }
            return cat(parts, 0);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Share of images whose predicted class is their label.</summary>
    public static double Accuracy(Tensor predicted, Tensor labels) =>
        predicted.eq(labels).to_type(ScalarType.Float64).mean().item<double>();

    /// <summary>(classes, classes) counts: row = true class, column = predicted class.</summary>
    public static Tensor ConfusionMatrix(Tensor labels, Tensor predicted, int classes)
    {
        if (!labels.shape.SequenceEqual(predicted.shape))
            throw new ArgumentException($"labels {Guard.Shape(labels)} and predicted {Guard.Shape(predicted)} must have the same shape.", nameof(predicted));
        return (labels * classes + predicted).bincount(null, classes * classes).reshape(classes, classes);
    }
}
