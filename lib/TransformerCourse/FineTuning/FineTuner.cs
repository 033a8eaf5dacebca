using TransformerCourse.Exercises;
using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Notebook;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.FineTuning;

/// <summary>How a classifier is fine-tuned: AdamW with weight decay, linear warm-up over the first
/// <paramref name="WarmupFraction"/> of the steps then linear decay to 0, as in BERT's fine-tuning recipe
/// (Devlin et al., 2019), gradient clipping, and an evaluation on the test set every <paramref name="EvalInterval"/> steps.</summary>
public sealed record FineTuneOptions(int Steps, int BatchSize, double LearningRate, int EvalInterval,
    double WarmupFraction = 0.1, double WeightDecay = 0.01, double GradientClip = 1.0, int Seed = 0);

/// <summary>The outcome of one run: test accuracy after each evaluation (step 0 = before training), the final test
/// accuracy, the training loss of each step and the wall time.</summary>
public sealed record FineTuneResult(IReadOnlyList<(int Step, double Accuracy)> Curve, double Accuracy, IReadOnlyList<double> Losses, double Seconds);

/// <summary>Fine-tunes a <see cref="ClsClassifier"/> or <see cref="TokenClassifier"/> through the course's one
/// <see cref="TrainingLoop{TBatch}"/>, and measures accuracy.</summary>
public static class FineTuner
{
    /// <summary>Cross-entropy of logits (B, K) against labels (B), or (B, T, K) against (B, T), skipping every label
    /// equal to <see cref="SubwordAlignment.IgnoreIndex"/>; the batch accuracy is reported as the metric "accuracy".</summary>
    public static BatchLoss Loss(Tensor logits, Tensor labels)
    {
        CheckShapes(logits, labels);
        var flat = logits.reshape(-1, logits.shape[^1]);
        var target = labels.reshape(-1);
        var loss = nn.functional.cross_entropy(flat, target, ignore_index: SubwordAlignment.IgnoreIndex);
        using var noGrad = no_grad();
        var (correct, counted) = Counts(logits, labels);
        return new BatchLoss(loss, new Dictionary<string, Tensor> { ["accuracy"] = correct.to_type(ScalarType.Float64) / Math.Max(1, counted) });
    }

    /// <summary>Correct predictions and the number of labelled positions (ignored labels not counted).</summary>
    public static (Tensor Correct, long Counted) Counts(Tensor logits, Tensor labels)
    {
        CheckShapes(logits, labels);
        var keep = labels.ne(SubwordAlignment.IgnoreIndex);
        var correct = logits.argmax(-1).eq(labels).logical_and(keep).sum();
        return (correct, keep.sum().item<long>());
    }

    static void CheckShapes(Tensor logits, Tensor labels)
    {
        if (logits.dim() != labels.dim() + 1 || !logits.shape[..^1].SequenceEqual(labels.shape))
            throw new ArgumentException($"logits must be labels' shape plus a class axis, but logits are {Guard.Shape(logits)} and labels {Guard.Shape(labels)}.", nameof(labels));
    }

    /// <summary>The model's predictions on a set, in eval mode without gradients: per example, or per labelled
    /// position for tagging (in order), next to the gold labels.</summary>
    public static (int[] Predicted, int[] Gold) Predict(nn.Module<Tensor, Tensor, Tensor> model, EncodedSet set, int batchSize = 256)
    {
        bool training = model.training;
        model.eval();
        var predicted = new List<int>();
        var gold = new List<int>();
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < set.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                int n = Math.Min(batchSize, set.Count - start);
                var ids = set.Ids.narrow(0, start, n).to(Course.Device);
                var mask = set.Mask.narrow(0, start, n).to(Course.Device);
                var labels = set.Labels.narrow(0, start, n);
                var guess = model.forward(ids, mask).argmax(-1).cpu();
                var keep = labels.ne(SubwordAlignment.IgnoreIndex);
                predicted.AddRange(guess.masked_select(keep).data<long>().Select(v => (int)v));
                gold.AddRange(labels.masked_select(keep).data<long>().Select(v => (int)v));
            }
        }
        finally
        {
            if (training) model.train();
        }
        return ([.. predicted], [.. gold]);
    }

    /// <summary>Fraction of labelled positions (or examples) predicted right.</summary>
    public static double Accuracy(nn.Module<Tensor, Tensor, Tensor> model, EncodedSet set)
    {
        var (p, g) = Predict(model, set);
        return g.Length == 0 ? double.NaN : p.Zip(g).Count(x => x.First == x.Second) / (double)g.Length;
    }

    /// <summary>F1 of one class: the harmonic mean of precision and recall (0 when the class is never predicted right).</summary>
    public static double F1(IReadOnlyList<int> predicted, IReadOnlyList<int> gold, int positive)
    {
        RebuiltRoutines.Enter("FineTuner.F1");
        if (predicted.Count != gold.Count) throw new ArgumentException($"predicted has {predicted.Count} entries and gold {gold.Count}.", nameof(predicted));
        int tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < gold.Count; i++)
        {
            if (predicted[i] == positive && gold[i] == positive) tp++;
            else if (predicted[i] == positive) fp++;
            else if (gold[i] == positive) fn++;
        }
        return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    /// <summary>Accuracy of always answering the most frequent training label (ties: the smaller label).</summary>
    public static (int Label, double Accuracy) MajorityBaseline(IReadOnlyList<int> trainLabels, IReadOnlyList<int> testLabels)
    {
        if (trainLabels.Count == 0 || testLabels.Count == 0) throw new ArgumentException("Both label lists must be non-empty.", nameof(trainLabels));
        int majority = trainLabels.GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        return (majority, testLabels.Count(l => l == majority) / (double)testLabels.Count);
    }

    /// <summary>Fine-tunes <paramref name="model"/> on <paramref name="train"/> (batches drawn from seeded shuffles, one
    /// epoch after another) and evaluates on <paramref name="test"/> before training and every EvalInterval steps.</summary>
    public static FineTuneResult Train(nn.Module<Tensor, Tensor, Tensor> model, EncodedSet train, EncodedSet test, FineTuneOptions options,
        Action<int, double>? onEvaluate = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Guard.Positive(options.BatchSize, nameof(options.BatchSize));
        Guard.Positive(options.LearningRate, nameof(options.LearningRate));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        model.to(Course.Device);
        var decay = model.parameters().Where(p => p.dim() >= 2).ToList();
        var noDecay = model.parameters().Where(p => p.dim() < 2).ToList();
        using var optimizer = optim.AdamW([
            new AdamW.ParamGroup(decay, new AdamW.Options { weight_decay = options.WeightDecay }),
            new AdamW.ParamGroup(noDecay, new AdamW.Options { weight_decay = 0.0 })], options.LearningRate, 0.9, 0.999, 1e-8, options.WeightDecay);
        int warmup = Math.Max(1, (int)Math.Round(options.WarmupFraction * options.Steps));
        double RateAt(int step) => options.LearningRate * (step <= warmup
            ? step / (double)warmup
            : Math.Max(0, (options.Steps - step) / (double)Math.Max(1, options.Steps - warmup)));

        var random = new Random(options.Seed);
        int batch = Math.Min(options.BatchSize, train.Count);
        var order = Enumerable.Range(0, train.Count).ToArray();
        int next = order.Length;
        (Tensor Ids, Tensor Mask, Tensor Labels) NextBatch()
        {
            var picked = new long[batch];
            for (int i = 0; i < batch; i++)
            {
                if (next == order.Length) { random.Shuffle(order); next = 0; }
                picked[i] = order[next++];
            }
            var index = tensor(picked);
            return (train.Ids.index_select(0, index).to(Course.Device), train.Mask.index_select(0, index).to(Course.Device),
                train.Labels.index_select(0, index).to(Course.Device));
        }

        var curve = new List<(int, double)>();
        void Evaluate(int step)
        {
            double accuracy = Accuracy(model, test);
            curve.Add((step, accuracy));
            onEvaluate?.Invoke(step, accuracy);
        }
        Evaluate(0);
        var loop = new TrainingLoop<(Tensor Ids, Tensor Mask, Tensor Labels)>(model, optimizer, NextBatch,
            b => Loss(model.forward(b.Ids, b.Mask), b.Labels),
            new TrainingLoopOptions(options.Steps, RateAt, options.GradientClip, options.EvalInterval,
                "Fine-tuning diverged: lower the learning rate."),
            Evaluate);
        loop.Run();
        model.eval();
        return new FineTuneResult(curve, curve[^1].Item2, loop.History.Select(s => s.Loss).ToList(), watch.Elapsed.TotalSeconds);
    }
}
