using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;
using TransformerCourse.Plots;
using TransformerCourse.Runtime;
using static TorchSharp.torch;

namespace TransformerCourse.Notebook;

/// <summary>What a lesson runs on, printed by every notebook's setup cell.</summary>
public sealed record CourseEnvironment(string Device, string TorchSharpVersion, string DotNetVersion, int Threads, int Seed, string NativeNote)
{
    public override string ToString() =>
        $"Device: {Device} · TorchSharp {TorchSharpVersion} · .NET {DotNetVersion} · {Threads} CPU threads · seed {Seed}{NativeNote}";
}

/// <summary>One call at the top of every lesson: native libraries, device, seeds, chart loader.</summary>
public static class Course
{
    /// <summary>CUDA when a CUDA build of libtorch is loaded and a GPU is visible, otherwise the CPU.</summary>
    public static Device Device { get; private set; } = CPU;

    /// <summary>Loads TorchSharp's natives, picks the device, fixes the seeds. Set COURSE_THREADS to pin the thread count.</summary>
    public static CourseEnvironment Setup(int seed = 0)
    {
        TorchRuntime.EnsureLoaded();
        Device = cuda.is_available() ? CUDA : CPU;
        if (int.TryParse(Environment.GetEnvironmentVariable("COURSE_THREADS"), out var threads) && threads > 0)
            set_num_threads(threads);
        Seed(seed);
        Figure.ResetPlotlyLoader();
        var version = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
        var note = TorchRuntime.WeakenedVersions.Count > 0
            ? $" · libstdc++ lacks {string.Join(", ", TorchRuntime.WeakenedVersions)}: using the patched bridge (see README, Troubleshooting)"
            : "";
        var deviceText = Device.type == DeviceType.CUDA ? "cuda (GPU found)" : "cpu (no CUDA device)";
        return new CourseEnvironment(deviceText, version.Split('+')[0], RuntimeInformation.FrameworkDescription.Replace(".NET ", ""),
            get_num_threads(), seed, note);
    }

    /// <summary>Seeds TorchSharp's generators (CPU and CUDA) so a lesson gives the same numbers each run.</summary>
    public static void Seed(int seed)
    {
        manual_seed(seed);
        if (cuda.is_available()) cuda.manual_seed_all(seed);
    }
}
