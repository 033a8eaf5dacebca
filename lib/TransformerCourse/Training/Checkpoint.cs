using System.Text.Json;
using TorchSharp;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Training;

/// <summary>What a checkpoint records besides the tensors.</summary>
public sealed record CheckpointInfo(int Step, TrainingRecipe Recipe, GptConfig Model, string Alphabet, double? ValidationLoss);

/// <summary>
/// A checkpoint is one file: a JSON header (step, recipe, model config, tokenizer alphabet) followed by
/// the model's weights, the optimizer's state and the random generators' states. It is written to a
/// temporary file and renamed over the old one, so a crash mid-write leaves the previous checkpoint intact.
/// </summary>
public static class Checkpoint
{
    const string Magic = "TCGPT1";

    public static void Save(string path, CheckpointInfo info, GptModel model, optim.Optimizer? optimizer, Generator? batchGenerator)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var stream = File.Create(temp))
            using (var writer = new BinaryWriter(stream))
            {
                writer.Write(Magic);
                writer.Write(JsonSerializer.Serialize(info));
                model.save(writer);
                writer.Write(optimizer is not null);
                if (optimizer is not null) ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
                WriteState(writer, get_rng_state());
                writer.Write(batchGenerator is not null);
                if (batchGenerator is not null) WriteState(writer, batchGenerator.get_state());
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static CheckpointInfo ReadInfo(string path)
    {
        using var reader = Open(path);
        return ReadHeader(reader, path);
    }

    /// <summary>Loads weights into <paramref name="model"/> and, when given, the optimizer and generator states.</summary>
    public static CheckpointInfo Load(string path, GptModel model, optim.Optimizer? optimizer = null, Generator? batchGenerator = null)
    {
        using var reader = Open(path);
        var info = ReadHeader(reader, path);
        if (info.Model with { UseFusedAttention = model.Config.UseFusedAttention, Dropout = model.Config.Dropout } != model.Config with { })
            throw new ArgumentException($"Checkpoint '{path}' holds a {Describe(info.Model)} model; the model given is {Describe(model.Config)}.", nameof(model));
        model.load(reader);
        bool hasOptimizer = reader.ReadBoolean();
        if (hasOptimizer && optimizer is not null) ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
        else if (hasOptimizer) return info; // weights are all a sampler needs
        set_rng_state(ReadState(reader));
        if (reader.ReadBoolean())
        {
            var state = ReadState(reader);
            batchGenerator?.set_state(state);
        }
        return info;
    }

    static string Describe(GptConfig c) => $"{c.Layers}-layer, {c.Heads}-head, width-{c.Width}, context-{c.ContextLength}, vocab-{c.VocabSize}";

    static BinaryReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No checkpoint at '{path}'.", path);
        return new BinaryReader(File.OpenRead(path));
    }

    static CheckpointInfo ReadHeader(BinaryReader reader, string path)
    {
        string magic;
        try { magic = reader.ReadString(); }
        catch (EndOfStreamException) { magic = ""; }
        if (magic != Magic) throw new InvalidDataException($"'{path}' is not a course checkpoint (or it is truncated).");
        return JsonSerializer.Deserialize<CheckpointInfo>(reader.ReadString())
            ?? throw new InvalidDataException($"'{path}' has an empty header.");
    }

    static void WriteState(BinaryWriter writer, Tensor state)
    {
        using (state)
        {
            var bytes = state.cpu().data<byte>().ToArray();
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
    }

    static Tensor ReadState(BinaryReader reader) => tensor(reader.ReadBytes(reader.ReadInt32()), dtype: ScalarType.Byte);
}
