using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Bert;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>What a distillation run produced.</summary>
/// <param name="Student">The trained student.</param>
/// <param name="HeldOut">The student's held-out MLM scores after training.</param>
/// <param name="TrainLoss">The total loss at every step.</param>
public sealed record DistillationRun(BertModel Student, BertScores HeldOut, List<double> TrainLoss, double Seconds);

/// <summary>
/// DistilBERT (Sanh et al., 2019): a student with half the teacher's layers, initialised from the teacher by taking one
/// layer out of two (and the embeddings and heads as they are), then trained on the teacher's softened MLM outputs plus
/// the true tokens (<see cref="Distillation.Loss"/>). DistilBERT also adds a cosine loss between hidden states and drops
/// NSP; we keep the two MLM terms.
/// </summary>
public static class DistilBert
{
    /// <summary>A student config: the teacher's with half the layers (at least one).</summary>
    public static BertConfig StudentConfig(BertConfig teacher) => teacher with { Layers = Math.Max(1, teacher.Layers / 2) };

    /// <summary>A new student whose every weight is copied from the teacher; student layer i is teacher layer 2i.</summary>
    public static BertModel CreateStudent(BertModel teacher)
    {
        var student = new BertModel(StudentConfig(teacher.Config));
        var source = teacher.state_dict();
        var copy = new Dictionary<string, Tensor>();
        foreach (var (name, value) in student.state_dict())
        {
            string from = MapLayer(name);
            if (!source.TryGetValue(from, out var t) || !t.shape.SequenceEqual(value.shape))
                throw new InvalidOperationException($"The teacher has no weight '{from}' shaped {Guard.Shape(value)} for the student's '{name}'.");
            copy[name] = t;
        }
        student.load_state_dict(copy);
        return student.to(teacher.Encoder.TokenTable.device);
    }

    // "…layers.3.…" in the student comes from "…layers.6.…" in the teacher.
    static string MapLayer(string name)
    {
        var parts = name.Split('.');
        for (int i = 0; i + 1 < parts.Length; i++)
            if (parts[i] == "layers" && int.TryParse(parts[i + 1], out int k)) parts[i + 1] = (2 * k).ToString();
        return string.Join('.', parts);
    }

    /// <summary>Trains <paramref name="student"/> against <paramref name="teacher"/> (frozen, eval mode) with
    /// α · T² · KL + (1 − α) · MLM cross-entropy over the masked positions, for recipe.Steps steps of the recipe's
    /// optimiser and schedule. α = 0 trains on the true tokens alone (the no-teacher baseline).</summary>
    public static DistillationRun Train(BertModel teacher, BertModel student, BertPretrainingData data, BertPretrainingRecipe recipe,
        IReadOnlyList<BertBatch> heldOut, double temperature = 2.0, double alpha = 0.5)
    {
        var device = teacher.Encoder.TokenTable.device;
        teacher.eval();
        manual_seed(recipe.Seed);
        using var optimizer = BertOptimizers.AdamW(student, recipe);
        var generator = new Generator((ulong)recipe.Seed + 1);
        var loop = new TrainingLoop<BertBatch>(student, optimizer,
            () => data.Train.Sample(recipe.BatchSize, generator, device, recipe.Masking, null, recipe.Seed),
            batch =>
            {
                var labels = batch.MlmLabels.reshape(-1);
                var where = labels.ne(MlmMasking.IgnoreIndex).nonzero().squeeze(1);
                Tensor teacherLogits;
                using (no_grad())
                {
                    var th = teacher.Encoder.forward(batch.InputIds, batch.Segments, batch.AttentionMask);
                    teacherLogits = teacher.MlmLogits(th.reshape(-1, th.shape[^1]).index_select(0, where));
                }
                var sh = student.Encoder.forward(batch.InputIds, batch.Segments, batch.AttentionMask);
                var studentLogits = student.MlmLogits(sh.reshape(-1, sh.shape[^1]).index_select(0, where));
                var loss = Distillation.Loss(studentLogits.unsqueeze(0), teacherLogits.unsqueeze(0), labels.index_select(0, where).unsqueeze(0), temperature, alpha);
                return new BatchLoss(loss.Total, new Dictionary<string, Tensor> { ["soft"] = loss.Soft.detach(), ["hard"] = loss.Hard.detach() });
            },
            new TrainingLoopOptions(recipe.Steps, recipe.LearningRateAt, recipe.GradientClip));
        var watch = Stopwatch.StartNew();
        loop.Run();
        double seconds = watch.Elapsed.TotalSeconds;
        student.eval();
        return new DistillationRun(student, BertPretraining.Evaluate(student, heldOut), loop.History.Select(s => s.Loss).ToList(), seconds);
    }

    /// <summary>Median milliseconds of one pass of the encoder (embeddings and layers: what a fine-tuned model runs before
    /// its small task head) over <paramref name="batch"/>, without gradients, after a warm-up.</summary>
    public static double EncoderMilliseconds(BertModel model, BertBatch batch, int repeats = 7)
    {
        model.eval();
        return Notebook.Timing.MedianMilliseconds(() =>
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            model.Encoder.forward(batch.InputIds, batch.Segments, batch.AttentionMask);
        }, repeats);
    }
}
