using TransformerCourse.Bert;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>One arm of the RoBERTa ablation run with one seed, scored on fixed held-out batches.</summary>
public sealed record AblationRun(string Arm, int Seed, BertScores HeldOut, double Seconds);

/// <summary>
/// RoBERTa's two pretraining changes (Liu et al., 2019) tested at small scale with lesson 13's own trainer
/// (<see cref="BertPretrainer"/>, the course's one training loop): static vs dynamic masking, and NSP vs none.
/// Each arm is a <see cref="BertPretrainingRecipe"/> that differs only in <c>Masking</c> and <c>NspWeight</c>.
/// </summary>
public static class RobertaAblation
{
    /// <summary>The three arms: BERT's (static masks, NSP), dynamic masks with NSP, RoBERTa's (dynamic masks, no NSP).</summary>
    public static IReadOnlyList<(string Arm, BertPretrainingRecipe Recipe)> Arms(BertPretrainingRecipe baseRecipe) =>
    [
        ("static + NSP (BERT)", baseRecipe with { Masking = MaskingMode.Static, NspWeight = 1.0 }),
        ("dynamic + NSP", baseRecipe with { Masking = MaskingMode.Dynamic, NspWeight = 1.0 }),
        ("dynamic, no NSP (RoBERTa)", baseRecipe with { Masking = MaskingMode.Dynamic, NspWeight = 0.0 }),
    ];

    /// <summary>Trains every arm with every seed on <paramref name="data"/> and scores each on <paramref name="heldOut"/>.</summary>
    public static List<AblationRun> Run(BertPretrainingData data, BertPretrainingRecipe baseRecipe, IReadOnlyList<int> seeds,
        IReadOnlyList<BertBatch> heldOut, Device? device = null)
    {
        var runs = new List<AblationRun>();
        foreach (var (arm, recipe) in Arms(baseRecipe))
            foreach (int seed in seeds)
            {
                var trainer = new BertPretrainer(data, recipe with { Seed = seed }, device);
                trainer.Run();
                runs.Add(new AblationRun(arm, seed, BertPretraining.Evaluate(trainer.Model, heldOut), trainer.Elapsed.TotalSeconds));
                trainer.Model.Dispose();
            }
        return runs;
    }
}
