using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Generation;

/// <summary>
/// Lesson 17's small character GPT: trained on Tiny Shakespeare by <see cref="GptTrainer"/> (the course's one
/// training loop) and cached as a checkpoint. A cached file is used only when it loads cleanly, has the tokenizer's
/// alphabet, was made by exactly <see cref="Recipe"/> and finished all its steps; anything else is retrained from
/// scratch, which (fixed seeds, CPU) gives the same weights again. Checkpoints are written atomically.
/// </summary>
public static class DecodingModel
{
    /// <summary>2 layers, 4 heads, width 96, context 64, batch 32, 500 steps, no dropout.</summary>
    public static TrainingRecipe Recipe { get; } = new("lesson17", Layers: 2, Heads: 4, Width: 96, ContextLength: 64, BatchSize: 32, Steps: 500,
        Dropout: 0.0, LearningRate: 3e-3, MinLearningRate: 3e-4, WarmupSteps: 30, EvalInterval: 500, EvalBatches: 8, Seed: 1337);

    /// <summary>What <see cref="LoadOrTrain"/> did.</summary>
    public sealed record Result(GptModel Model, CheckpointInfo Info, bool Trained, string Note);

    /// <summary>Loads the model from <paramref name="folder"/> or trains it there; the model comes back in eval mode on <paramref name="device"/>.</summary>
    public static Result LoadOrTrain(string folder, TinyShakespeare data, Device device, TrainingRecipe? recipe = null)
    {
        recipe ??= Recipe;
        var path = Path.Combine(folder, GptTrainer.CheckpointFile);
        var alphabet = new string(data.Tokenizer.Symbols.ToArray());
        var model = Checkpoint.TryLoadModel(path, alphabet, out var problem);
        if (model is not null)
        {
            var info = Checkpoint.ReadInfo(path);
            if (info.Recipe == recipe && info.Step == recipe.Steps)
            {
                model.to(device);
                model.eval();
                return new Result(model, info, false, $"loaded the cached model (step {info.Step})");
            }
            model.Dispose();
            problem = info.Recipe == recipe ? $"it stopped at step {info.Step} of {recipe.Steps}" : "it was made by another recipe";
        }
        Directory.CreateDirectory(folder);
        foreach (var file in new[] { GptTrainer.CheckpointFile, GptTrainer.BestCheckpointFile, "steps.csv", "evals.csv" })
            File.Delete(Path.Combine(folder, file));
        using var corpus = data.Corpus();
        using (var trainer = new GptTrainer(recipe, data.Tokenizer, corpus, device, folder)) trainer.Run();
        var trained = Checkpoint.TryLoadModel(path, alphabet, out var after)
            ?? throw new InvalidOperationException($"the checkpoint just written to '{path}' does not load: {after}");
        trained.to(device);
        trained.eval();
        return new Result(trained, Checkpoint.ReadInfo(path), true, $"trained it here ({problem.TrimEnd('.')})");
    }
}
