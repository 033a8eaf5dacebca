using System.Text.Json;
using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Tokenization;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>The lesson-13 mini-BERT as later lessons use it: the model (eval mode), its tokenizer, the data it was
/// trained on, what its checkpoint records, and whether it was trained just now or loaded.</summary>
public sealed record PretrainedBert(BertModel Model, BytePairEncoder Tokenizer, BertPretrainingData Data, BertCheckpointInfo Info,
    string Path, bool TrainedNow, string Note)
{
    public const string FileName = "bert.bin";

    /// <summary>runs/lesson13 under the repository root (found by walking up to TransformerCourse.slnx from the
    /// current folder; a notebook's folder is two below it).</summary>
    public static string DefaultFolder => System.IO.Path.Combine(RepositoryRoot(), "runs", "lesson13");

    /// <summary>
    /// Loads the lesson-13 checkpoint, or pretrains it (and saves it atomically) when it is missing, unreadable,
    /// damaged or was trained with another recipe. Pretraining is deterministic on the CPU, so a retrain gives the
    /// same model. Tiny Shakespeare comes from <see cref="TinyShakespeare.LoadAsync"/> (mirror and cache as usual).
    /// </summary>
    /// <param name="folder">Where bert.bin lives; <see cref="DefaultFolder"/> when null.</param>
    /// <param name="progress">Receives each held-out evaluation while training (not called when loading).</param>
    public static async Task<PretrainedBert> LoadOrTrainAsync(string? folder = null, BertPretrainingRecipe? recipe = null,
        Device? device = null, Action<BertCurvePoint>? progress = null, TextWriter? log = null)
    {
        recipe ??= BertPretrainingRecipe.Lesson13;
        device ??= CPU;
        folder ??= DefaultFolder;
        var path = System.IO.Path.Combine(folder, FileName);
        var text = (await TinyShakespeare.LoadAsync(log: log)).Text;

        string why;
        if (!File.Exists(path)) why = "no checkpoint yet";
        else
        {
            try
            {
                var info = BertCheckpoint.ReadInfo(path);
                if (info.Recipe == recipe)
                {
                    var tokenizer = BertTokenizer.FromMerges(info.Merges);
                    var (model, _) = BertCheckpoint.LoadModel(path);
                    model.to(device);
                    var data = new BertPretrainingData(text, tokenizer, recipe.MaxLength, recipe.Seed);
                    return new PretrainedBert(model, tokenizer, data, info, path, false, $"loaded the checkpoint {path}");
                }
                why = "the checkpoint was trained with another recipe";
            }
            catch (Exception e) when (e is InvalidDataException or IOException or JsonException or ArgumentException)
            {
                why = $"the checkpoint could not be read ({e.Message})";
            }
        }
        return Train(text, recipe, path, device, progress, why);
    }

    /// <summary>Pretrains now (no cache), saves to <paramref name="path"/> when it is not null.</summary>
    public static PretrainedBert Train(string text, BertPretrainingRecipe recipe, string? path, Device? device = null,
        Action<BertCurvePoint>? progress = null, string why = "asked to train")
    {
        var (trainText, _) = BertPretrainingData.Split(text);
        var tokenizer = BertTokenizer.Train(trainText, recipe.VocabSize);
        var data = new BertPretrainingData(text, tokenizer, recipe.MaxLength, recipe.Seed);
        var trainer = new BertPretrainer(data, recipe, device);
        if (progress is not null) trainer.Evaluated += progress;
        trainer.Run();
        var final = BertPretraining.Evaluate(trainer.Model, trainer.HeldOutBatches);
        var info = new BertCheckpointInfo(recipe, trainer.Model.Config, BertTokenizer.Merges(tokenizer), trainer.Curve,
            trainer.History.Select(s => s.Metrics["mlm_loss"]).ToArray(), trainer.History.Select(s => s.Metrics["nsp_loss"]).ToArray(),
            trainer.Elapsed.TotalSeconds, final);
        if (path is not null) BertCheckpoint.Save(path, info, trainer.Model);
        trainer.Model.eval();
        return new PretrainedBert(trainer.Model, tokenizer, data, info, path ?? "", true,
            $"pretrained now ({why}) in {trainer.Elapsed.TotalSeconds:0} s" + (path is null ? "" : $"; saved to {path}"));
    }

    /// <summary>Fixed held-out batches masked with the recipe's held-out seed (the ones the curve was measured on).</summary>
    public List<BertBatch> HeldOutBatches(int batchSize = 256) =>
        Data.HeldOut.FixedBatches(batchSize, Info.Recipe.HeldOutMaskSeed, Model.Encoder.TokenTable.device, Info.Recipe.HeldOutPairs);

    static string RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "TransformerCourse.slnx"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
