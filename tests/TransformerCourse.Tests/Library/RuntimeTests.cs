using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Runtime;

namespace TransformerCourse.Tests.Library;

public class RuntimeTests
{
    static string BridgePath => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Fact]
    public void Reads_the_libstdcxx_version_requirements_of_the_bridge()
    {
        if (!OperatingSystem.IsLinux()) return;
        var needs = ElfVersionNeeds.Read(File.ReadAllBytes(BridgePath));
        Assert.Contains(needs, n => n.Library == "libstdc++.so.6" && n.Version == "GLIBCXX_3.4.32" && !n.IsWeak);
        Assert.Contains(needs, n => n.Library.StartsWith("libc.so", StringComparison.Ordinal));
    }

    [Fact]
    public void Weakening_marks_only_the_named_version()
    {
        if (!OperatingSystem.IsLinux()) return;
        var original = File.ReadAllBytes(BridgePath);
        var patched = ElfVersionNeeds.WithWeakVersions(original, ["GLIBCXX_3.4.32"]);
        var before = ElfVersionNeeds.Read(original);
        var after = ElfVersionNeeds.Read(patched);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
            Assert.Equal(before[i].Version == "GLIBCXX_3.4.32" || before[i].IsWeak, after[i].IsWeak);
        Assert.Equal(original.Length, patched.Length);
        Assert.Equal(1, original.Zip(patched).Count(p => p.First != p.Second));
    }

    [Fact]
    public void Bad_input_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => ElfVersionNeeds.Read(new byte[100]));
        Assert.Contains("bad magic", e.Message);
        if (!OperatingSystem.IsLinux()) return;
        var missing = Assert.Throws<ArgumentException>(() => ElfVersionNeeds.WithWeakVersions(File.ReadAllBytes(BridgePath), ["GLIBCXX_9.9"]));
        Assert.Contains("GLIBCXX_9.9", missing.Message);
    }

    [Fact]
    public void Loads_torch_and_patches_only_when_the_system_libstdcxx_is_too_old()
    {
        TorchRuntime.EnsureLoaded();
        using var t = torch.ones(2, 3);
        Assert.Equal(6f, t.sum().item<float>());
        if (!OperatingSystem.IsLinux()) return;
        var system = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6" }.First(File.Exists);
        bool systemHasIt = System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(system)).Contains("GLIBCXX_3.4.32");
        Assert.Equal(!systemHasIt, TorchRuntime.WeakenedVersions.Contains("GLIBCXX_3.4.32"));
    }

    [Theory]
    [InlineData("cpu", "libtorch-cpu-linux-x64", "TorchSharp-cuda-linux")]
    [InlineData("cuda", "TorchSharp-cuda-linux", "libtorch-cpu-linux-x64")]
    public void The_backend_switch_selects_exactly_one_native_package(string backend, string expected, string unexpected)
    {
        if (!OperatingSystem.IsLinux()) return;
        var project = Path.Combine(Notebooks.ExecutedNotebook.RepoRoot, "lib", "TransformerCourse", "TransformerCourse.csproj");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "msbuild", project, "-getItem:PackageReference", $"-p:TorchBackend={backend}", "-nologo" }) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, output);
        Assert.Contains($"\"Identity\": \"{expected}\"", output);
        Assert.DoesNotContain($"\"Identity\": \"{unexpected}\"", output);
    }
}
