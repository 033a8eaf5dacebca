using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using TransformerCourse.Data;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class CapstoneDataTests : TorchTest, IDisposable
{
    private readonly string temp = Path.Combine(Path.GetTempPath(), "course-data-" + Guid.NewGuid().ToString("N"));
    private readonly string? oldCache = Environment.GetEnvironmentVariable("TRANSFORMER_COURSE_CACHE");
    private readonly string? oldMirror = Environment.GetEnvironmentVariable(DatasetStore.MirrorVariable);

    public CapstoneDataTests()
    {
        Environment.SetEnvironmentVariable("TRANSFORMER_COURSE_CACHE", Path.Combine(temp, "cache"));
        Environment.SetEnvironmentVariable(DatasetStore.MirrorVariable, null);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("TRANSFORMER_COURSE_CACHE", oldCache);
        Environment.SetEnvironmentVariable(DatasetStore.MirrorVariable, oldMirror);
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
    }

    static readonly byte[] Content = Encoding.UTF8.GetBytes("To be, or not to be: that is the question.\n");

    static DatasetManifest Manifest(byte[] content) =>
        new("toy", "toy.txt", "https://example.invalid/toy.txt", Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant(), content.Length, "test");

    static Func<string, Task<Stream>> Serve(byte[] bytes, List<string>? calls = null) => url =>
    {
        calls?.Add(url);
        return Task.FromResult<Stream>(new MemoryStream(bytes));
    };

    [Fact]
    public async Task Downloads_once_verifies_and_reuses_the_cache()
    {
        var calls = new List<string>();
        var path = await DatasetStore.EnsureAsync(Manifest(Content), download: Serve(Content, calls));
        Assert.Equal(Content, File.ReadAllBytes(path));
        await DatasetStore.EnsureAsync(Manifest(Content), download: Serve(Content, calls));
        Assert.Single(calls);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    [Fact]
    public async Task A_corrupted_cached_file_is_replaced()
    {
        var path = await DatasetStore.EnsureAsync(Manifest(Content), download: Serve(Content));
        File.WriteAllText(path, "To be, or not");
        var calls = new List<string>();
        await DatasetStore.EnsureAsync(Manifest(Content), download: Serve(Content, calls));
        Assert.Single(calls);
        Assert.Equal(Content, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task A_wrong_download_is_rejected_and_leaves_nothing()
    {
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => DatasetStore.EnsureAsync(Manifest(Content), download: Serve(Content[..10])));
        Assert.Contains("expected 43 bytes", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(temp, "cache"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Offline_without_a_mirror_says_how_to_provide_the_file()
    {
        var e = await Assert.ThrowsAsync<IOException>(() => DatasetStore.EnsureAsync(Manifest(Content),
            download: _ => throw new HttpRequestException("Name or service not known")));
        Assert.Contains(DatasetStore.MirrorVariable, e.Message);
        Assert.Contains("--data-mirror", e.Message);
        Assert.Contains(Manifest(Content).Sha256, e.Message);
    }

    [Fact]
    public async Task A_mirror_folder_is_used_and_verified()
    {
        var mirror = Path.Combine(temp, "mirror");
        Directory.CreateDirectory(Path.Combine(mirror, "toy"));
        File.WriteAllBytes(Path.Combine(mirror, "toy", "toy.txt"), Content);
        var path = await DatasetStore.EnsureAsync(Manifest(Content), mirror, download: _ => throw new InvalidOperationException("no network"));
        Assert.Equal(Content, File.ReadAllBytes(path));
        await Assert.ThrowsAsync<FileNotFoundException>(() => DatasetStore.EnsureAsync(Manifest(Content) with { Name = "other" }, mirror));
    }

    [Fact]
    public async Task Tiny_Shakespeare_has_65_symbols_and_the_reference_split()
    {
        var mirror = Path.GetFullPath(Path.Combine(Notebooks.ExecutedNotebook.RepoRoot, "..", "shared", "datasets"));
        if (!Directory.Exists(mirror)) mirror = oldMirror ?? mirror;
        var data = await TinyShakespeare.LoadAsync(mirror);
        Assert.Equal(65, data.Tokenizer.VocabSize);
        using var corpus = data.Corpus();
        Assert.Equal(1_003_854, corpus.Train.shape[0]);
        Assert.Equal(111_540, corpus.Validation.shape[0]);
        var (x, y) = corpus.Batch(false, 4, 8, new Generator(1));
        Assert.Equal(new long[] { 4, 8 }, x.shape);
        Assert.True(x[.., 1..].eq(y[.., ..^1]).all().item<bool>());
        var (x2, _) = corpus.Batch(false, 4, 8, new Generator(1));
        Assert.True(x.eq(x2).all().item<bool>());
    }

    [Fact]
    public void The_tokenizer_round_trips_and_names_unknown_characters()
    {
        var tokenizer = CharTokenizer.FromText("hello world");
        Assert.Equal(8, tokenizer.VocabSize);
        Assert.Equal("low", tokenizer.Decode(tokenizer.Encode("low")));
        var e = Assert.Throws<ArgumentException>(() => tokenizer.Encode("hold!"));
        Assert.Contains("'!'", e.Message);
        Assert.Contains("position 4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([99]));
    }
}
