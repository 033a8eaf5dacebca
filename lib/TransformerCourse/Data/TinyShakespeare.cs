namespace TransformerCourse.Data;

/// <summary>Tiny Shakespeare (Karpathy, 2015), verified and split as in nanoGPT's shakespeare_char.</summary>
public sealed record TinyShakespeare(string Text, CharTokenizer Tokenizer, string Path)
{
    /// <summary>Fetches (or finds) the verified file; see <see cref="DatasetStore"/> for mirror and cache.</summary>
    public static async Task<TinyShakespeare> LoadAsync(string? mirror = null, TextWriter? log = null)
    {
        var path = await DatasetStore.EnsureAsync(DatasetManifest.TinyShakespeare, mirror, log: log);
        var text = await File.ReadAllTextAsync(path);
        return new TinyShakespeare(text, CharTokenizer.FromText(text), path);
    }

    /// <summary>The whole text as tokens, first 90 % for training and last 10 % for validation.</summary>
    public TokenCorpus Corpus() => new(Tokenizer.Encode(Text));
}
