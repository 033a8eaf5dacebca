using System.Text.Json;
using TorchSharp;
using TransformerCourse.Analysis;

namespace TransformerCourse.Cli;

/// <summary>
/// <c>course bench attention-memory --impl none|naive|blocked|fused --n N [--batch B] [--heads H] [--dim D]
/// [--block K] [--repeats R] [--device D]</c>: runs one attention configuration (see <see cref="AttentionWorkload"/>)
/// and prints one machine-readable line, <c>attention-memory {json}</c>, with this process's peak resident memory
/// (VmHWM, KiB) read right after the first call and the median milliseconds of the repeats. Meant to run once per process:
/// a peak cannot be reset, which is why lesson 23 starts one child per configuration.
/// </summary>
public static class AttentionMemoryCommand
{
    public const string Name = "attention-memory";

    public static int Execute(string[] args, TextWriter stdout)
    {
        var cl = new CommandLine($"bench {Name}", args, new HashSet<string> { "impl", "n", "batch", "heads", "dim", "block", "repeats", "device", "threads" }, new HashSet<string>());
        var impl = cl.Text("impl") ?? throw new ArgumentException($"bench {Name}: --impl is required ({string.Join("|", AttentionWorkload.Implementations)}).", "impl");
        int n = cl.Int("n") ?? throw new ArgumentException($"bench {Name}: --n (sequence length) is required.", "n");
        int batch = cl.Int("batch") ?? 1, heads = cl.Int("heads") ?? 4, dim = cl.Int("dim") ?? 64, block = cl.Int("block") ?? 256, repeats = cl.Int("repeats") ?? 3;
        var device = DeviceOption.Resolve(cl.Text("device") ?? "cpu");
        if (cl.Int("threads") is { } threads) torch.set_num_threads(threads);
        var (peakKb, medianMs) = AttentionWorkload.Run(impl, n, batch, heads, dim, block, repeats, device);
        var result = new AttentionMeasurement(impl, n, batch, heads, dim, block, device.type.ToString().ToLowerInvariant(),
            torch.get_num_threads(), peakKb, double.IsNaN(medianMs) ? null : medianMs);
        stdout.WriteLine($"{Name} {JsonSerializer.Serialize(result)}");
        return 0;
    }
}
