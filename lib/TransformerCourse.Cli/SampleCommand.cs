using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using TransformerCourse.Training;

namespace TransformerCourse.Cli;

/// <summary><c>course sample --checkpoint FILE [--prompt TEXT] [--tokens N] [--temperature T] [--top-k K] [--seed S] [--device D]</c></summary>
public static class SampleCommand
{
    public static Task<int> ExecuteAsync(string[] args, TextWriter stdout)
    {
        var cl = new CommandLine("sample", args, new HashSet<string> { "checkpoint", "prompt", "tokens", "temperature", "top-k", "seed", "device" }, new HashSet<string>());
        var path = cl.Text("checkpoint") ?? Path.Combine("runs", "cpu", GptTrainer.CheckpointFile);
        var device = DeviceOption.Resolve(cl.Text("device"));
        DeviceSettings.EnableTf32(device);
        var info = Checkpoint.ReadInfo(path);
        var tokenizer = new CharTokenizer(info.Alphabet);
        using var model = new GptModel(info.Model with { Dropout = 0 });
        model.to(device);
        Checkpoint.Load(path, model);
        var options = new SamplingOptions(cl.Double("temperature") ?? 0.8, cl.Int("top-k") ?? 200).Validated();
        var generator = new torch.Generator((ulong)(cl.Int("seed") ?? 1337), device);
        var prompt = cl.Text("prompt") ?? "\n";
        var tokens = TextSampler.Generate(model, tokenizer.Encode(prompt), cl.Int("tokens") ?? 500, options, generator);
        stdout.WriteLine(tokenizer.Decode(tokens));
        return Task.FromResult(0);
    }
}
