using System.Security.Cryptography;
using System.Text.Json;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>What a BERT checkpoint records besides the weights: the recipe, the model shape, the tokenizer's merges,
/// the pretraining curve, the per-step training losses, the training time and the final held-out scores.</summary>
public sealed record BertCheckpointInfo(BertPretrainingRecipe Recipe, BertConfig Config, List<int[]> Merges, List<BertCurvePoint> Curve,
    double[] StepMlmLoss, double[] StepNspLoss, double TrainSeconds, BertScores Final);

/// <summary>
/// One file: a magic string, a JSON header (<see cref="BertCheckpointInfo"/>), the weights and their SHA-256. It is
/// written to a temporary file, read back and verified, and only then renamed over the old file, so a crash or a
/// full disk never leaves a half-written checkpoint under the real name; a file whose hash does not match is refused.
/// </summary>
public static class BertCheckpoint
{
    const string Magic = "TCBERT1";

    // The curve's first point has no training loss yet (NaN), which plain JSON cannot hold.
    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Save(string path, BertCheckpointInfo info, BertModel model)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        byte[] weights;
        using (var memory = new MemoryStream())
        {
            using (var w = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true)) model.save(w);
            weights = memory.ToArray();
        }
        var temp = $"{full}.{Environment.ProcessId}.tmp";
        try
        {
            using (var stream = File.Create(temp))
            using (var writer = new BinaryWriter(stream))
            {
                writer.Write(Magic);
                writer.Write(JsonSerializer.Serialize(info, Json));
                writer.Write(weights.Length);
                writer.Write(weights);
                writer.Write(SHA256.HashData(weights));
            }
            ReadVerified(temp);   // throws if what reached the disk is not what was meant
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The header, after checking the magic string and the weights' hash.</summary>
    public static BertCheckpointInfo ReadInfo(string path) => ReadVerified(path).Info;

    /// <summary>Loads the weights into <paramref name="model"/>, whose config must match the file's (dropout aside).</summary>
    public static BertCheckpointInfo Load(string path, BertModel model)
    {
        var (info, weights) = ReadVerified(path);
        if (info.Config with { Dropout = model.Config.Dropout } != model.Config)
            throw new ArgumentException($"Checkpoint '{path}' holds {info.Config}; the model given is {model.Config}.", nameof(model));
        using var reader = new BinaryReader(new MemoryStream(weights));
        model.load(reader);
        return info;
    }

    /// <summary>A model with the file's config (dropout switched off unless <paramref name="dropout"/> is given) and weights, in eval mode.</summary>
    public static (BertModel Model, BertCheckpointInfo Info) LoadModel(string path, double? dropout = null)
    {
        var info = ReadInfo(path);
        var model = new BertModel(info.Config with { Dropout = dropout ?? 0.0 });
        try { Load(path, model); }
        catch { model.Dispose(); throw; }
        model.eval();
        return (model, info);
    }

    static (BertCheckpointInfo Info, byte[] Weights) ReadVerified(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No checkpoint at '{path}'.", path);
        using var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException($"'{path}' is not a course BERT checkpoint.");
            var info = JsonSerializer.Deserialize<BertCheckpointInfo>(reader.ReadString(), Json)
                ?? throw new InvalidDataException($"'{path}' has an empty header.");
            int length = reader.ReadInt32();
            var weights = reader.ReadBytes(length);
            var hash = reader.ReadBytes(32);
            if (weights.Length != length || !hash.AsSpan().SequenceEqual(SHA256.HashData(weights)))
                throw new InvalidDataException($"'{path}' is damaged: its weights do not match their SHA-256 (truncated or overwritten?).");
            return (info, weights);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"'{path}' is truncated.");
        }
    }
}
