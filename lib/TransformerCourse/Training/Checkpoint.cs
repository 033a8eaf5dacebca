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

    /// <summary>
    /// Loads weights into <paramref name="model"/>. With an <paramref name="optimizer"/> (resuming a run) it also restores
    /// the optimizer state, the global random generator and the batch generator; without one (sampling, inspecting,
    /// shipping) it loads the weights only and leaves every random generator as it was.
    /// </summary>
    public static CheckpointInfo Load(string path, GptModel model, optim.Optimizer? optimizer = null, Generator? batchGenerator = null)
    {
        using var reader = Open(path);
        var info = ReadHeader(reader, path);
        if (info.Model with { UseFusedAttention = model.Config.UseFusedAttention, Dropout = model.Config.Dropout } != model.Config with { })
            throw new ArgumentException($"Checkpoint '{path}' holds a {Describe(info.Model)} model; the model given is {Describe(model.Config)}.", nameof(model));
        long remaining = reader.BaseStream.Length - reader.BaseStream.Position;
        long needed = model.state_dict().Values.Sum(t => t.NumberOfElements * t.ElementSize);
        if (remaining < needed)
            throw new InvalidDataException($"'{path}' is truncated: the weights of a {Describe(info.Model)} model need at least {needed:N0} bytes, but only {remaining:N0} follow the header.");
        model.load(reader);
        if (optimizer is null) return info;   // weights are all a sampler needs; the caller's random state stays untouched
        if (!reader.ReadBoolean())
            throw new ArgumentException($"Checkpoint '{path}' holds weights only (a shipped model): there is no optimizer state to resume from.", nameof(optimizer));
        ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
        set_rng_state(ReadState(reader));
        if (reader.ReadBoolean())
        {
            var state = ReadState(reader);
            batchGenerator?.set_state(state);
        }
        return info;
    }

    /// <summary>
    /// Loads a model for sampling, defensively: null (with <paramref name="problem"/> saying why) when the file is
    /// missing, is not a course checkpoint, is truncated, or was trained with another alphabet than
    /// <paramref name="alphabet"/>. Dropout is switched off in the loaded model.
    /// </summary>
    public static GptModel? TryLoadModel(string path, string alphabet, out string problem)
    {
        problem = "";
        if (!File.Exists(path)) { problem = "there is no such file"; return null; }
        GptModel? model = null;
        try
        {
            var header = ReadInfo(path);
            if (header.Alphabet != alphabet) { problem = "it was trained with a different alphabet"; return null; }
            model = new GptModel(header.Model with { Dropout = 0 });
            Load(path, model);
            return model;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or IOException or JsonException)
        {
            model?.Dispose();
            problem = e.Message;
            return null;
        }
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
        string json;
        try { json = reader.ReadString(); }
        catch (EndOfStreamException) { throw new InvalidDataException($"'{path}' is truncated: it ends inside its header."); }
        return JsonSerializer.Deserialize<CheckpointInfo>(json)
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
