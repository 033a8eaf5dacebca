using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Bert;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>Held-out masked-language-model scores of one model.</summary>
public sealed record MlmScores(double Loss, double Accuracy, long MaskedTokens);

/// <summary>What one short MLM run produced.</summary>
/// <param name="TrainLoss">The training loss at every step.</param>
public sealed record VariantRun(string Name, EncoderVariant Model, long Parameters, MlmScores HeldOut, List<double> TrainLoss, double Seconds);

/// <summary>
/// Short MLM-only pretraining runs (no NSP, dynamic masking: RoBERTa's recipe) of <see cref="EncoderVariant"/>s on the
/// lesson-13 data, through the course's one <see cref="TrainingLoop{TBatch}"/>, with the optimiser and schedule of a
/// <see cref="BertPretrainingRecipe"/> (AdamW, warm-up then linear decay, clipping). Every variant sees the same
/// batches in the same order for a given seed, so differences come from the model.
/// </summary>
public static class VariantPretrainer
{
    public static VariantRun Train(string name, EncoderVariantConfig config, BertPretrainingData data, BertPretrainingRecipe recipe,
        IReadOnlyList<BertBatch> heldOut, Device? device = null)
    {
        device ??= CPU;
        manual_seed(recipe.Seed);
        var model = new EncoderVariant(config);
        model.to(device);
        using var optimizer = BertOptimizers.AdamW(model, recipe);
        var generator = new Generator((ulong)recipe.Seed + 1);
        var loop = new TrainingLoop<BertBatch>(model, optimizer,
            () => data.Train.Sample(recipe.BatchSize, generator, device, recipe.Masking, null, recipe.Seed),
            batch => MaskedMlmLoss(model, batch),
            new TrainingLoopOptions(recipe.Steps, recipe.LearningRateAt, recipe.GradientClip));
        var watch = Stopwatch.StartNew();
        loop.Run();
        double seconds = watch.Elapsed.TotalSeconds;
        model.eval();
        return new VariantRun(name, model, model.CountParameters(), Evaluate(b => model.Logits(b.InputIds, b.AttentionMask), heldOut),
            loop.History.Select(s => s.Loss).ToList(), seconds);
    }

    /// <summary>The MLM loss of <paramref name="model"/> on a batch, with the MLM head run only at the masked positions
    /// (as BERT's code does: the other positions have no label, and the head is the costliest layer).</summary>
    public static Tensor MaskedMlmLoss(EncoderVariant model, BertBatch batch)
    {
        var hidden = model.Hidden(batch.InputIds, batch.AttentionMask);
        var labels = batch.MlmLabels.reshape(-1);
        var where = labels.ne(MlmMasking.IgnoreIndex).nonzero().squeeze(1);
        var logits = model.MlmHead(hidden.reshape(-1, hidden.shape[^1]).index_select(0, where));
        return nn.functional.cross_entropy(logits, labels.index_select(0, where));
    }

    /// <summary>Mean cross-entropy over the positions whose label is not ignored. logits (B, L, V), labels (B, L).</summary>
    public static Tensor MlmLoss(Tensor logits, Tensor labels) =>
        nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1), ignore_index: MlmMasking.IgnoreIndex);

    /// <summary>MLM loss and accuracy over the masked positions of fixed batches, without gradients.</summary>
    public static MlmScores Evaluate(Func<BertBatch, Tensor> logitsOf, IReadOnlyList<BertBatch> batches)
    {
        using var noGrad = no_grad();
        double loss = 0;
        long hits = 0, masked = 0;
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            var logits = logitsOf(batch);
            var labels = batch.MlmLabels.reshape(-1);
            var flat = logits.reshape(-1, logits.shape[^1]);
            var chosen = labels.ne(MlmMasking.IgnoreIndex);
            long n = chosen.sum().item<long>();
            if (n == 0) continue;
            loss += nn.functional.cross_entropy(flat[chosen], labels[chosen], reduction: nn.Reduction.Sum).item<float>();
            hits += flat[chosen].argmax(-1).eq(labels[chosen]).sum().item<long>();
            masked += n;
        }
        return new MlmScores(loss / Math.Max(1, masked), (double)hits / Math.Max(1, masked), masked);
    }
}

/// <summary>The optimiser of <see cref="BertPretrainer"/>, for other models: AdamW (β 0.9/0.999, ε 1e-6) with weight
/// decay on matrices only.</summary>
public static class BertOptimizers
{
    public static optim.Optimizer AdamW(nn.Module model, BertPretrainingRecipe recipe)
    {
        var decay = model.parameters().Where(p => p.dim() >= 2).ToList();
        var noDecay = model.parameters().Where(p => p.dim() < 2).ToList();
        return optim.AdamW(
            [
                new AdamW.ParamGroup(decay, new AdamW.Options { weight_decay = recipe.WeightDecay }),
                new AdamW.ParamGroup(noDecay, new AdamW.Options { weight_decay = 0.0 }),
            ],
            recipe.LearningRate, 0.9, 0.999, 1e-6, recipe.WeightDecay);
    }
}
