using Xunit.Abstractions;
using Xunit.Sdk;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Where the real-Jupyter route lives on this machine: Debian's nbconvert and the .NET kernel (a dotnet global tool).</summary>
public static class Jupyter
{
    public const string KernelName = ".net-csharp";
    public static string Command => "jupyter";
    public static string DotnetToolsFolder => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools");

    static string KernelSpec => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "jupyter", "kernels", KernelName, "kernel.json");

    /// <summary>Null when Jupyter, nbconvert and the .NET kernel are installed; otherwise what is missing.</summary>
    public static string? Missing()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator);
        if (!path.Any(d => File.Exists(Path.Combine(d, "jupyter-nbconvert")))) return "jupyter-nbconvert (apt-get install jupyter-nbconvert python3-ipykernel)";
        if (!File.Exists(Path.Combine(DotnetToolsFolder, "dotnet-interactive"))) return "the .NET kernel (dotnet tool install -g Microsoft.dotnet-interactive)";
        if (!File.Exists(KernelSpec)) return "the .NET kernel's Jupyter registration (dotnet interactive jupyter install)";
        return null;
    }
}

/// <summary>A test that executes a lesson in real Jupyter; skipped, saying what is missing, only when Jupyter is not installed.</summary>
public sealed class JupyterFactAttribute : FactAttribute
{
    public JupyterFactAttribute()
    {
        if (Jupyter.Missing() is { } missing)
            Skip = $"Real Jupyter is not installed here (missing: {missing}); CI's .ci/run installs it.";
    }
}

/// <summary>Marks a lesson test class whose facts run on real Jupyter's executed copy (see <see cref="LessonFactAttribute"/>).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class InJupyterAttribute : Attribute;

/// <summary>
/// A fact about an executed lesson. A lesson's test class asserts its facts on the runner's copy; a subclass marked
/// <see cref="InJupyterAttribute"/> inherits the same facts and asserts them on real Jupyter's copy. Those are
/// reported as skipped, with what is missing, only where Jupyter is not installed (CI installs it).
/// </summary>
[XunitTestCaseDiscoverer("TransformerCourse.Tests.Notebooks.LessonFactDiscoverer", "TransformerCourse.Tests")]
public sealed class LessonFactAttribute : FactAttribute;

public sealed class LessonFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    readonly FactDiscoverer facts = new(diagnostics);

    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attribute)
    {
        bool inJupyter = method.TestClass.Class.GetCustomAttributes(typeof(InJupyterAttribute)).Any();
        if (inJupyter && Jupyter.Missing() is { } missing)
            return [new XunitSkippedDataRowTestCase(diagnostics, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method,
                $"Real Jupyter is not installed here (missing: {missing}); CI's .ci/run installs it.")];
        return facts.Discover(options, method, attribute);
    }
}
