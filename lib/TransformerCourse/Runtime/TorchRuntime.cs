using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TorchSharp;

namespace TransformerCourse.Runtime;

/// <summary>
/// Loads libtorch and TorchSharp's native bridge before the first tensor operation, the same way
/// in a console app, a test run and a notebook.
/// </summary>
/// <remarks>
/// Why this exists: TorchSharp 0.107's bridge (libLibTorchSharp.so) asks for libstdc++ version
/// GLIBCXX_3.4.32, which Debian 12 and Ubuntu 22.04 lack, although the only symbol it wants at that
/// version is never called. On such systems we load a private copy of the bridge in which that
/// requirement is marked weak, and point TorchSharp's P/Invokes at it. Elsewhere nothing is patched.
/// </remarks>
public static partial class TorchRuntime
{
    static readonly Lock Gate = new();
    static IntPtr bridge;

    /// <summary>Where the native libraries were loaded from (after <see cref="EnsureLoaded"/>).</summary>
    public static string? NativeDirectory { get; private set; }

    /// <summary>The libstdc++ versions that had to be weakened on this machine (empty when none).</summary>
    public static IReadOnlyList<string> WeakenedVersions { get; private set; } = [];

    /// <summary>Loads the native libraries once per process; cheap after the first call.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (bridge != IntPtr.Zero) return;
            var dir = FindNativeDirectory();
            var names = NativeNames();
            foreach (var dep in names.Dependencies)
            {
                var path = Path.Combine(dir, dep);
                if (File.Exists(path)) NativeLibrary.Load(path);
            }
            bridge = LoadBridge(Path.Combine(dir, names.Bridge));
            NativeDirectory = dir;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, (name, _, _) =>
                    name == "LibTorchSharp" ? bridge : IntPtr.Zero);
            }
            catch (InvalidOperationException)
            {
                // A resolver is already set (another copy of this library in the process); the
                // bridge is loaded by then, so TorchSharp finds it by its soname.
            }
        }
    }

    static IntPtr LoadBridge(string path)
    {
        if (!File.Exists(path)) throw MissingNatives(Path.GetDirectoryName(path)!);
        try
        {
            return NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e) when (OperatingSystem.IsLinux() && MissingVersion().IsMatch(e.Message))
        {
            var versions = MissingVersion().Matches(e.Message).Select(m => m.Groups[1].Value).Distinct().ToList();
            var patched = WeakenedCopy(path, versions);
            try
            {
                var handle = NativeLibrary.Load(patched);
                WeakenedVersions = versions;
                return handle;
            }
            catch (DllNotFoundException again)
            {
                throw new DllNotFoundException(
                    $"Could not load TorchSharp's native bridge. The system libstdc++ lacks {string.Join(", ", versions)}; " +
                    $"a patched copy ({patched}) also failed: {again.Message}. Install a newer libstdc++ " +
                    "(Debian 13, Ubuntu 24.04 or the course devcontainer) or report the message above.", again);
            }
        }
    }

    /// <summary>
    /// A copy of the bridge in a per-user cache, with the given versions weak. Written to a temporary
    /// file and renamed, so two processes racing here both end up with a complete file.
    /// </summary>
    static string WeakenedCopy(string original, IReadOnlyCollection<string> versions)
    {
        var bytes = File.ReadAllBytes(original);
        var hash = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        var cacheDir = Path.Combine(CourseCache.Root, "native", $"{hash}-{string.Join("-", versions)}");
        var target = Path.Combine(cacheDir, Path.GetFileName(original));
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(cacheDir);
        var temp = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, ElfVersionNeeds.WithWeakVersions(bytes, versions));
        File.Move(temp, target, overwrite: true);
        return target;
    }

    static string FindNativeDirectory()
    {
        var here = Path.GetDirectoryName(typeof(TorchRuntime).Assembly.Location) ?? AppContext.BaseDirectory;
        var bridgeName = NativeNames().Bridge;
        var candidates = new[]
        {
            Path.Combine(here, "runtimes", RuntimeInformation.RuntimeIdentifier, "native"),
            Path.Combine(here, "runtimes", PortableRid(), "native"),
            here,
        };
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, bridgeName))) ?? throw MissingNatives(candidates[1]);
    }

    static Exception MissingNatives(string where) => new DllNotFoundException(
        $"TorchSharp's native libraries (libtorch and {NativeNames().Bridge}) were not found in '{where}'. " +
        "Build the course library first: `dotnet build lib/TransformerCourse -c Release` (add -p:TorchBackend=cuda " +
        "for the GPU build). The CPU build needs the package libtorch-cpu-" + PortableRid() + "; the CUDA build " +
        "needs TorchSharp-cuda-linux or TorchSharp-cuda-windows.");

    static string PortableRid() =>
        (OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux") + "-" +
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();

    sealed record Names(string[] Dependencies, string Bridge);

    static Names NativeNames() =>
        OperatingSystem.IsWindows()
            ? new(["c10.dll", "c10_cuda.dll", "torch_cpu.dll", "torch_cuda.dll", "torch.dll"], "LibTorchSharp.dll")
            : OperatingSystem.IsMacOS()
                ? new(["libc10.dylib", "libtorch_cpu.dylib", "libtorch.dylib"], "libLibTorchSharp.dylib")
                : new(["libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so"], "libLibTorchSharp.so");

    [GeneratedRegex(@"version `(GLIBCXX_[0-9.]+)' not found")]
    private static partial Regex MissingVersion();
}
