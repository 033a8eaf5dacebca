using System.Diagnostics;
using System.Text.Json;

namespace TransformerCourse.Analysis;

/// <summary>One child process's report (<c>course bench attention-memory</c>): its peak resident memory in KiB
/// and the median milliseconds of its repeats (null for the baseline, which runs no attention).</summary>
public sealed record AttentionMeasurement(string Impl, int N, int Batch, int Heads, int Dim, int Block, string Device, int Threads,
    long PeakRssKb, double? MedianMs);

/// <summary>Attention's own peak memory for one configuration: the child's peak minus the baseline child's peak
/// at the same n (same process start, warm-up and q, k, v; no attention), in MiB.</summary>
public sealed record AttentionMemoryPoint(string Impl, int N, double PeakMiB, double BaselineMiB, double OwnPeakMiB, double MedianMs);

/// <summary>
/// Measures peak memory the only honest way a process allows: a fresh child process per configuration (a peak
/// can only go up, so one process cannot measure two configurations), each reading its own peak resident set
/// size (Linux VmHWM) after the run. The child is the course command line, <c>course.dll</c>.
/// </summary>
public static class AttentionMemory
{
    public const string CliVariable = "TRANSFORMER_COURSE_CLI";
    const string LinePrefix = "attention-memory ";

    /// <summary>
    /// The built course command line: <c>$TRANSFORMER_COURSE_CLI</c> if set; else the <c>course.dll</c> of the running
    /// process when it is the course runner; else the newest of lib/TransformerCourse.Cli/bin/{Release,Debug}/net10.0/course.dll
    /// in the repository above the working directory or above this library.
    /// </summary>
    public static string LocateCli()
    {
        if (Environment.GetEnvironmentVariable(CliVariable) is { Length: > 0 } given)
            return File.Exists(given) ? Path.GetFullPath(given)
                : throw new FileNotFoundException($"{CliVariable} is set to '{given}', but no file is there.", given);
        var own = Path.Combine(AppContext.BaseDirectory, "course.dll");
        if (File.Exists(own)) return own;
        var searched = new List<string>();
        foreach (var start in new[] { Environment.CurrentDirectory, Path.GetDirectoryName(typeof(AttentionMemory).Assembly.Location) ?? "" })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var project = Path.Combine(dir.FullName, "lib", "TransformerCourse.Cli");
                if (!Directory.Exists(project)) continue;
                var candidates = new[] { "Release", "Debug" }.Select(c => Path.Combine(project, "bin", c, "net10.0", "course.dll")).ToList();
                searched.AddRange(candidates);
                var found = candidates.Where(File.Exists).OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
                if (found is not null) return found;
                break;
            }
        }
        throw new FileNotFoundException(
            "The course command line (course.dll) is not built, and the memory measurements run it as a child process. " +
            "Build it once from the repository root with `dotnet build lib/TransformerCourse.Cli -c Release` " +
            $"(or point {CliVariable} at a course.dll). Looked for: {(searched.Count == 0 ? "no repository found above " + Environment.CurrentDirectory : string.Join(", ", searched))}.");
    }

    /// <summary>Runs one configuration in a fresh child process and returns its report.</summary>
    public static AttentionMeasurement Measure(string impl, int n, int batch = 1, int heads = 4, int dim = 64, int block = 256,
        int repeats = 3, int? threads = null, string device = "cpu")
    {
        if (!AttentionWorkload.Implementations.Contains(impl))
            throw new ArgumentException($"impl must be one of {string.Join(", ", AttentionWorkload.Implementations)}, not '{impl}'.", nameof(impl));
        var cli = LocateCli();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var args = new List<string> { cli, "bench", "attention-memory", "--impl", impl, "--n", $"{n}", "--batch", $"{batch}", "--heads", $"{heads}",
            "--dim", $"{dim}", "--block", $"{block}", "--repeats", $"{repeats}", "--device", device };
        if (threads is { } t) args.AddRange(["--threads", $"{t}"]);
        args.ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start dotnet {cli}.");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        try { return Parse(stdout); }
        catch (InvalidDataException e)
        {
            throw new InvalidOperationException(
                $"The child `course bench attention-memory --impl {impl} --n {n}` (from {cli}) exited with code {process.ExitCode} and {e.Message} " +
                $"If it reports an unknown command or option, that course.dll is older than this library: rebuild it with `dotnet build lib/TransformerCourse.Cli`. " +
                $"Its output:\n{stdout}{stderr.Result}");
        }
    }

    /// <summary>The report in a child's output: the line <c>attention-memory {json}</c>.</summary>
    public static AttentionMeasurement Parse(string output)
    {
        var line = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith(LinePrefix, StringComparison.Ordinal))
            ?? throw new InvalidDataException("printed no 'attention-memory {...}' line.");
        try
        {
            return JsonSerializer.Deserialize<AttentionMeasurement>(line[LinePrefix.Length..])
                ?? throw new InvalidDataException("printed an empty report.");
        }
        catch (JsonException e) { throw new InvalidDataException($"printed a report that is not valid JSON ({e.Message})."); }
    }

    /// <summary>
    /// For every n: one baseline child ("none") and one child per implementation; returns each implementation's
    /// own peak (its child's peak minus the baseline's) and median time. Children run one after another.
    /// </summary>
    public static List<AttentionMemoryPoint> Sweep(IReadOnlyList<int> lengths, IReadOnlyList<string> impls, int batch = 1, int heads = 4,
        int dim = 64, int block = 256, int repeats = 3, int? threads = null, Action<AttentionMemoryPoint>? progress = null)
    {
        if (lengths.Count == 0) throw new ArgumentException("lengths must name at least one sequence length.", nameof(lengths));
        if (impls.Count == 0 || impls.Contains("none")) throw new ArgumentException("impls must name at least one implementation; the baseline ('none') is measured anyway.", nameof(impls));
        var points = new List<AttentionMemoryPoint>();
        foreach (int n in lengths)
        {
            double baseline = Measure("none", n, batch, heads, dim, block, repeats, threads).PeakRssKb / 1024.0;
            foreach (var impl in impls)
            {
                var m = Measure(impl, n, batch, heads, dim, block, repeats, threads);
                double peak = m.PeakRssKb / 1024.0;
                var point = new AttentionMemoryPoint(impl, n, peak, baseline, peak - baseline, m.MedianMs ?? double.NaN);
                points.Add(point);
                progress?.Invoke(point);
            }
        }
        return points;
    }
}
