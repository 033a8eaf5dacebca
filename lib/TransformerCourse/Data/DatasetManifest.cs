using System.Text.Json;

namespace TransformerCourse.Data;

/// <summary>Where a data set comes from and how to recognise a good copy (datasets/*.json).</summary>
public sealed record DatasetManifest(string Name, string File, string Url, string Sha256, long Bytes, string Source)
{
    static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

    /// <summary>A manifest shipped inside the library (from the repository's datasets/ folder).</summary>
    public static DatasetManifest Embedded(string name)
    {
        using var stream = typeof(DatasetManifest).Assembly.GetManifestResourceStream($"datasets/{name}.json")
            ?? throw new ArgumentException($"No data set manifest named '{name}' is built into the library.", nameof(name));
        return JsonSerializer.Deserialize<DatasetManifest>(stream, Options) ?? throw new InvalidDataException($"Manifest '{name}' is empty.");
    }

    public static DatasetManifest TinyShakespeare => Embedded("tinyshakespeare");

    public static DatasetManifest Load(string path)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"No data set manifest at '{path}'.", path);
        var manifest = JsonSerializer.Deserialize<DatasetManifest>(System.IO.File.ReadAllText(path), Options)
            ?? throw new InvalidDataException($"Manifest '{path}' is empty.");
        if (manifest.Sha256.Length != 64) throw new InvalidDataException($"Manifest '{path}' has a malformed sha256 ({manifest.Sha256}).");
        return manifest;
    }
}
