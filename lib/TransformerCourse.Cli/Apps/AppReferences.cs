using Microsoft.CodeAnalysis;

namespace TransformerCourse.Cli.Apps;

/// <summary>Assemblies to bind notebook cells and to compile exported apps against, without building anything.</summary>
public static class AppReferences
{
    static readonly Lazy<IReadOnlyList<MetadataReference>> Running = new(() =>
        ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList());

    /// <summary>
    /// Everything this process runs with (the .NET runtime, the course library and its packages): what the
    /// exporter binds cells against. The command line references the library, so its types resolve.
    /// </summary>
    public static IReadOnlyList<MetadataReference> RunningProcess => Running.Value;

    /// <summary>
    /// What <c>dotnet build</c> of an app compiles against: the .NET reference assemblies (the targeting pack beside
    /// the running runtime, or the runtime's own assemblies when no pack is installed) and every assembly in
    /// <paramref name="libraryOutput"/> (the course library's build folder, which holds its packages too).
    /// </summary>
    public static IReadOnlyList<MetadataReference> ForApps(string libraryOutput)
    {
        if (!File.Exists(Path.Combine(libraryOutput, "TransformerCourse.dll")))
            throw new FileNotFoundException($"The course library is not built in {libraryOutput}.", Path.Combine(libraryOutput, "TransformerCourse.dll"));
        return Framework().Concat(Directory.EnumerateFiles(libraryOutput, "*.dll").Where(IsManaged).OrderBy(p => p, StringComparer.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    static IEnumerable<string> Framework()
    {
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;          // …/shared/Microsoft.NETCore.App/10.0.x
        var dotnetRoot = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        var packs = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref");
        var refFolder = Directory.Exists(packs)
            ? Directory.EnumerateDirectories(packs)
                .Select(v => (Version: Version.TryParse(Path.GetFileName(v).Split('-')[0], out var parsed) ? parsed : new Version(0, 0), Folder: Path.Combine(v, "ref", $"net{Environment.Version.Major}.0")))
                .Where(v => Directory.Exists(v.Folder) && v.Version.Major == Environment.Version.Major)
                .OrderByDescending(v => v.Version).Select(v => v.Folder).FirstOrDefault()
            : null;
        return Directory.EnumerateFiles(refFolder ?? runtime, "*.dll").Where(IsManaged).OrderBy(p => p, StringComparer.Ordinal);
    }

    static bool IsManaged(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
            return pe.HasMetadata;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
