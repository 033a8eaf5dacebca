using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.Training;

namespace TransformerCourse.Cli;

/// <summary><c>course train --recipe cpu|gpu [--device D] [--out DIR] [--resume] [--steps N] [--data-mirror DIR]</c></summary>
public static class TrainCommand
{
    public static async Task<int> ExecuteAsync(string[] args, TextWriter stdout)
    {
        var cl = new CommandLine("train", args, new HashSet<string> { "recipe", "device", "out", "steps", "data-mirror" }, new HashSet<string> { "resume" });
        var recipe = TrainingRecipe.Named(cl.Text("recipe") ?? "cpu");
        if (cl.Int("steps") is int steps) recipe = recipe with { Steps = steps };
        var device = DeviceOption.Resolve(cl.Text("device"));
        bool tf32 = DeviceSettings.EnableTf32(device);   // as Lesson 27 does on CUDA
        var outDir = Path.GetFullPath(cl.Text("out") ?? Path.Combine("runs", recipe.Name));
        var data = await TinyShakespeare.LoadAsync(cl.Text("data-mirror"), stdout);
        using var corpus = data.Corpus();
        using var trainer = new GptTrainer(recipe, data.Tokenizer, corpus, device, outDir, cl.Has("resume"));

        stdout.WriteLine($"Recipe '{recipe.Name}': {recipe.Layers} layers, {recipe.Heads} heads, width {recipe.Width}, context {recipe.ContextLength}, " +
                         $"batch {recipe.BatchSize}, {recipe.Steps} steps, dropout {recipe.Dropout} on {device.type}{(tf32 ? " (TF32 matmuls)" : "")}");
        stdout.WriteLine($"{trainer.Model.ParameterCount:N0} parameters; {trainer.FlopsPerStep / 1e9:0.00} GFLOP per step; output in {outDir}" +
                         (trainer.Step > 0 ? $"; resuming at step {trainer.Step}" : ""));
        var progress = new ProgressLine(stdout, recipe.Steps, trainer.Step);
        trainer.StepCompleted += progress.Report;
        trainer.Evaluated += e =>
        {
            progress.Clear();
            stdout.WriteLine($"step {e.Step,5}: train loss {e.TrainLoss:0.0000}, val loss {e.ValidationLoss:0.0000} (checkpoint saved)");
        };
        try
        {
            trainer.Run();
        }
        catch (TrainingDivergedException e)
        {
            progress.Clear();
            stdout.WriteLine(e.Message);
            return 3;
        }
        progress.Clear();
        var last = trainer.Metrics.Evaluations.LastOrDefault();
        stdout.WriteLine($"Done: {trainer.Step} steps, final val loss {last?.ValidationLoss:0.0000}; the best so far is in {GptTrainer.BestCheckpointFile}. Sample with:");
        stdout.WriteLine($"  dotnet run --project lib/TransformerCourse.Cli -- sample --checkpoint {Path.Combine(outDir, GptTrainer.CheckpointFile)} --prompt \"ROMEO:\"");
        return 0;
    }

    /// <summary>One updating console line: step, loss, tokens/s, ETA (a line every 5 % when output is redirected).</summary>
    sealed class ProgressLine(TextWriter output, int total, int start)
    {
        private readonly System.Diagnostics.Stopwatch watch = System.Diagnostics.Stopwatch.StartNew();
        private readonly bool live = !Console.IsOutputRedirected;
        private double smoothedMs;

        public void Report(StepRecord s)
        {
            smoothedMs = smoothedMs == 0 ? s.Milliseconds : 0.9 * smoothedMs + 0.1 * s.Milliseconds;
            int every = Math.Max(1, total / 20);
            if (!live && s.Step % every != 0) return;
            var done = (double)(s.Step - start) / Math.Max(1, total - start);
            var eta = TimeSpan.FromMilliseconds(smoothedMs * (total - s.Step));
            int filled = (int)(done * 30);
            var line = $"[{new string('#', filled)}{new string('.', 30 - filled)}] step {s.Step}/{total} loss {s.Loss:0.000} " +
                       $"{smoothedMs:0} ms/step {s.TokensPerSecond / 1000:0.0}k tok/s ETA {eta:mm\\:ss}";
            if (live) output.Write("\r" + line.PadRight(100));
            else output.WriteLine(line);
        }

        public void Clear()
        {
            if (live) output.Write("\r" + new string(' ', 100) + "\r");
        }
    }
}
