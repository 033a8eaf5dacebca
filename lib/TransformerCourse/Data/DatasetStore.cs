using System.Security.Cryptography;
using TransformerCourse.Runtime;

namespace TransformerCourse.Data;

/// <summary>
/// Gets a data set file into the per-user cache and proves it is the right one (size and SHA-256).
/// Order: a verified cached copy; a configured mirror folder (TRANSFORMER_COURSE_DATA_MIRROR or an
/// explicit argument; laid out as &lt;mirror&gt;/&lt;name&gt;/&lt;file&gt;); the canonical URL. Every copy is written to a
/// temporary file, verified, then renamed, so an interrupted download never looks complete.
/// </summary>
public static class DatasetStore
{
    public const string MirrorVariable = "TRANSFORMER_COURSE_DATA_MIRROR";

    public static string CacheFolder => Path.Combine(CourseCache.Root, "datasets");

    /// <summary>Path to a verified local copy of the manifest's file.</summary>
    /// <param name="download">How to fetch a URL into a stream (tests replace it); defaults to HTTP.</param>
    public static async Task<string> EnsureAsync(DatasetManifest manifest, string? mirror = null, Func<string, Task<Stream>>? download = null,
        TextWriter? log = null)
    {
        var target = Path.Combine(CacheFolder, manifest.Name, manifest.File);
        if (File.Exists(target))
        {
            if (await IsValidAsync(target, manifest)) return target;
            log?.WriteLine($"{target} is incomplete or corrupted; fetching it again.");
            File.Delete(target);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);

        mirror ??= Environment.GetEnvironmentVariable(MirrorVariable);
        if (!string.IsNullOrWhiteSpace(mirror))
        {
            var source = Path.Combine(mirror, manifest.Name, manifest.File);
            if (!File.Exists(source))
                throw new FileNotFoundException($"The data mirror '{mirror}' has no {manifest.Name}/{manifest.File} (looked for '{source}').", source);
            await using var input = File.OpenRead(source);
            await WriteVerifiedAsync(input, target, manifest, $"mirror file {source}");
            return target;
        }

        download ??= HttpDownload;
        Stream stream;
        try
        {
            log?.WriteLine($"Downloading {manifest.Name} from {manifest.Url} …");
            stream = await download(manifest.Url);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            throw new IOException(
                $"Could not download {manifest.Name} from {manifest.Url} ({e.Message}). If this machine is offline, copy " +
                $"the file ({manifest.Bytes:N0} bytes, SHA-256 {manifest.Sha256}) to '{target}', or set {MirrorVariable} " +
                $"(or pass --data-mirror) to a folder that contains {manifest.Name}/{manifest.File}.", e);
        }
        await using (stream) await WriteVerifiedAsync(stream, target, manifest, manifest.Url);
        return target;
    }

    static async Task WriteVerifiedAsync(Stream input, string target, DatasetManifest manifest, string from)
    {
        var temp = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var output = File.Create(temp)) await input.CopyToAsync(output);
            if (!await IsValidAsync(temp, manifest))
            {
                var info = new FileInfo(temp);
                throw new InvalidDataException(
                    $"{manifest.Name} from {from} is not the expected file: {info.Length:N0} bytes with SHA-256 {await HashAsync(temp)}, " +
                    $"expected {manifest.Bytes:N0} bytes with SHA-256 {manifest.Sha256}.");
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static async Task<bool> IsValidAsync(string path, DatasetManifest manifest) =>
        new FileInfo(path).Length == manifest.Bytes && string.Equals(await HashAsync(path), manifest.Sha256, StringComparison.OrdinalIgnoreCase);

    static async Task<string> HashAsync(string path)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexString(await SHA256.HashDataAsync(stream)).ToLowerInvariant();
    }

    static async Task<Stream> HttpDownload(string url)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        var bytes = await client.GetByteArrayAsync(url);
        return new MemoryStream(bytes);
    }
}
