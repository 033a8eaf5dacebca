using System.Globalization;
using TransformerCourse.Analysis;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.Scaling;

namespace TransformerCourse.Cli;

/// <summary>
/// <c>course scaling [--widths 16,24,…] [--layers L] [--steps S] [--batch B] [--context T] [--lr R] [--device D] [--out DIR] [--data-mirror DIR]</c>:
/// the full scaling sweep of lesson 19 (the lesson runs a reduced one live). Trains one GPT per width on the same batches,
/// evaluates each after 60, 120, 240, … steps, writes DIR/sweep.csv and prints the fitted laws.
/// </summary>
public static class ScalingCommand
{
    /// <summary>The full sweep: 7 widths, 2 layers, up to 1,920 steps of 16 × 64 tokens (about 2M tokens per model).</summary>
    public static ScalingSweepOptions Full { get; } = new([16, 24, 32, 48, 64, 96, 128], EvalSteps(1920));

    /// <summary>60, 120, 240, … doubling, up to and including <paramref name="steps"/>.</summary>
    public static int[] EvalSteps(int steps)
    {
        Guard.Positive(steps, nameof(steps));
        var list = new List<int>();
        for (int s = 60; s < steps; s *= 2) list.Add(s);
        list.Add(steps);
        return [.. list];
    }

    public static async Task<int> ExecuteAsync(string[] args, TextWriter stdout)
    {
        var cl = new CommandLine("scaling", args, new HashSet<string> { "widths", "layers", "steps", "batch", "context", "lr", "device", "out", "data-mirror" }, new HashSet<string>());
        var options = Full;
        if (cl.Text("widths") is { } widths)
            options = options with { Widths = widths.Split(',').Select(w => int.TryParse(w, out var v) && v > 0 ? v : throw new ArgumentException($"scaling: --widths must be positive whole numbers separated by commas, not '{widths}'.", "widths")).ToArray() };
        if (cl.Int("layers") is int layers) options = options with { Layers = layers };
        if (cl.Int("steps") is int steps) options = options with { EvalSteps = EvalSteps(steps) };
        if (cl.Int("batch") is int batch) options = options with { BatchSize = batch };
        if (cl.Int("context") is int context) options = options with { ContextLength = context };
        if (cl.Double("lr") is double lr) options = options with { LearningRate = lr };
        options.Validated();
        var device = DeviceOption.Resolve(cl.Text("device"));
        var outDir = Path.GetFullPath(cl.Text("out") ?? Path.Combine("runs", "scaling"));
        var data = await TinyShakespeare.LoadAsync(cl.Text("data-mirror"), stdout);
        using var corpus = data.Corpus();
        stdout.WriteLine($"Scaling sweep: widths [{string.Join(", ", options.Widths)}], {options.Layers} layers, {options.Steps} steps of {options.BatchSize} × {options.ContextLength} tokens, " +
                         $"learning rate {options.LearningRate} on {device.type}; evaluations after [{string.Join(", ", options.EvalSteps)}] steps");
        var runs = ScalingSweep.Run(corpus, data.Tokenizer.VocabSize, options, device, r =>
            stdout.WriteLine($"width {r.Width,4}: N = {r.NonEmbeddingParameters,9:N0}, final validation loss {r.FinalLoss:0.0000} ± {r.ValidationStandardError[^1]:0.0000}, {r.MillisecondsPerStep:0.0} ms/step"));

        Directory.CreateDirectory(outDir);
        var csv = Path.Combine(outDir, "sweep.csv");
        var lines = new List<string> { "layers,width,heads,non_embedding_parameters,steps,tokens,val_loss,val_loss_se" };
        foreach (var r in runs)
            for (int i = 0; i < r.Steps.Length; i++)
                lines.Add(string.Join(',', r.Layers, r.Width, r.Heads, r.NonEmbeddingParameters, r.Steps[i],
                    r.Tokens[i].ToString("R", CultureInfo.InvariantCulture), r.ValidationLoss[i].ToString("R", CultureInfo.InvariantCulture),
                    r.ValidationStandardError[i].ToString("R", CultureInfo.InvariantCulture)));
        var temp = csv + ".tmp";
        await File.WriteAllLinesAsync(temp, lines);
        File.Move(temp, csv, overwrite: true);

        if (runs.Count >= 4)
        {
            var fit = SaturatingPowerLawFit.Fit(runs.Select(r => (double)r.NonEmbeddingParameters).ToArray(), runs.Select(r => r.FinalLoss).ToArray());
            var (lo, hi) = fit.ExponentInterval();
            stdout.WriteLine($"L(N) at {runs[0].Tokens[^1]:N0} tokens: E = {fit.Law.Floor:0.000} ± {fit.FloorError:0.000}, A = {fit.Law.Coefficient:0.00}, " +
                             $"α = {fit.Law.Exponent:0.000} ± {fit.ExponentError:0.000} (bootstrap 95 %: {lo:0.000}–{hi:0.000})");
        }
        var points = runs.SelectMany(r => r.Tokens.Select((d, i) => ((double)r.NonEmbeddingParameters, d, r.ValidationLoss[i]))).ToList();
        if (points.Count >= 6 && runs.Count >= 2)
        {
            var joint = JointScalingLawFit.Fit(points);
            var cpu = TrainingRecipe.Cpu;
            double n = ComputeOptimal.NonEmbeddingParameters(cpu), d = ComputeOptimal.Tokens(cpu);
            var (lo, hi) = joint.Band(n, d);
            stdout.WriteLine($"L(N, D) = {joint.Law.Floor:0.000} + {joint.Law.A:0.00}·N^−{joint.Law.Alpha:0.000} + {joint.Law.B:0.00}·D^−{joint.Law.Beta:0.000} (rms log residual {joint.RmsLogResidual:0.0000})");
            stdout.WriteLine($"capstone 'cpu' recipe (N = {n:N0}, D = {d:N0}): predicted validation loss {joint.Law.Predict(n, d):0.000} (95 % band {lo:0.000}–{hi:0.000})");
        }
        stdout.WriteLine($"wrote {csv}");
        return 0;
    }
}
