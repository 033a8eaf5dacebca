using System.Diagnostics;
using System.Text.Json;
using Spectre.Console;
using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Cli;

/// <summary>
/// <c>course bench [--recipe cpu] [--steps N] [--device D] [--json FILE] [--data-mirror DIR]</c>: training speed of a recipe —
/// median ms/step, tokens/s, achieved GFLOP/s and its share of this machine's fp32 matmul throughput,
/// plus where a step's time goes (batching, forward, backward, clipping, optimizer).
/// </summary>
public static class BenchCommand
{
    public sealed record Result(string Recipe, string Device, int Threads, int Steps, double MedianMsPerStep, double TokensPerSecond,
        double GflopPerStep, double AchievedGflops, double MatmulPeakGflops, double PercentOfPeak, Dictionary<string, double> MedianMsByPhase);

    public static async Task<int> ExecuteAsync(string[] args, TextWriter stdout)
    {
        if (args.FirstOrDefault() == AttentionMemoryCommand.Name) return AttentionMemoryCommand.Execute(args[1..], stdout);
        var cl = new CommandLine("bench", args, new HashSet<string> { "recipe", "steps", "device", "json", "data-mirror" }, new HashSet<string>());
        var recipe = TrainingRecipe.Named(cl.Text("recipe") ?? "cpu");
        int steps = cl.Int("steps") ?? 50;
        var device = DeviceOption.Resolve(cl.Text("device"));
        DeviceSettings.EnableTf32(device);   // the speed the trainer gets on CUDA
        var data = await TinyShakespeare.LoadAsync(cl.Text("data-mirror"), stdout);
        using var corpus = data.Corpus();
        using var trainer = new GptTrainer(recipe with { Steps = steps + 5 }, data.Tokenizer, corpus, device);

        var phases = new Dictionary<string, List<double>> { ["batch"] = [], ["forward"] = [], ["backward"] = [], ["clip"] = [], ["optimizer"] = [], ["total"] = [] };
        var model = trainer.Model;
        for (int i = 0; i < steps + 5; i++)
        {
            var watch = Stopwatch.StartNew();
            double Lap() { Sync(device); var t = watch.Elapsed.TotalMilliseconds; watch.Restart(); return t; }
            using var scope = NewDisposeScope();
            var (x, y) = corpus.Batch(false, recipe.BatchSize, recipe.ContextLength, trainer.BatchGenerator, device);
            var tBatch = Lap();
            var loss = model.Loss(x, y);
            var tForward = Lap();
            trainer.Optimizer.zero_grad();
            loss.backward();
            var tBackward = Lap();
            nn.utils.clip_grad_norm_(model.parameters(), recipe.GradientClip);
            var tClip = Lap();
            trainer.Optimizer.step();
            var tOptimizer = Lap();
            if (i < 5) continue; // warm-up: allocator and thread pool
            phases["batch"].Add(tBatch); phases["forward"].Add(tForward); phases["backward"].Add(tBackward);
            phases["clip"].Add(tClip); phases["optimizer"].Add(tOptimizer);
            phases["total"].Add(tBatch + tForward + tBackward + tClip + tOptimizer);
        }
        double median = Median(phases["total"]);
        double peak = MatmulPeakGflops(device);
        double achieved = trainer.FlopsPerStep / (median / 1000) / 1e9;
        var result = new Result(recipe.Name, device.type.ToString().ToLowerInvariant(), get_num_threads(), steps, median,
            recipe.BatchSize * recipe.ContextLength / (median / 1000), trainer.FlopsPerStep / 1e9, achieved, peak, 100 * achieved / peak,
            phases.Where(p => p.Key != "total").ToDictionary(p => p.Key, p => Median(p.Value)));

        var table = new Table().AddColumns("Measure", "Value");
        table.AddRow("recipe / device / threads", $"{result.Recipe} / {result.Device} / {result.Threads}");
        table.AddRow("median ms per step", $"{result.MedianMsPerStep:0.0}");
        table.AddRow("tokens per second", $"{result.TokensPerSecond:N0}");
        table.AddRow("GFLOP per step", $"{result.GflopPerStep:0.00}");
        table.AddRow("achieved GFLOP/s", $"{result.AchievedGflops:0.0}");
        table.AddRow("fp32 matmul peak GFLOP/s (measured)", $"{result.MatmulPeakGflops:0.0}");
        table.AddRow("% of matmul peak", $"{result.PercentOfPeak:0}%");
        foreach (var (phase, ms) in result.MedianMsByPhase) table.AddRow($"  {phase} (median ms)", $"{ms:0.00}");
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) }).Write(table);
        var json = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
        stdout.WriteLine(json);
        if (cl.Text("json") is { } file) await File.WriteAllTextAsync(file, json);
        return 0;
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }

    static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }

    /// <summary>fp32 GEMM throughput of this machine: the ceiling a training step could reach.</summary>
    static double MatmulPeakGflops(Device device)
    {
        int n = device.type == DeviceType.CUDA ? 4096 : 1024;
        using var a = randn(n, n, device: device);
        using var b = randn(n, n, device: device);
        for (int i = 0; i < 3; i++) a.matmul(b).Dispose();
        Sync(device);
        var times = new List<double>();
        for (int i = 0; i < 10; i++)
        {
            var watch = Stopwatch.StartNew();
            a.matmul(b).Dispose();
            Sync(device);
            times.Add(watch.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / times.Min() / 1e9;
    }
}
