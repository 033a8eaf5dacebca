using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class GptTrainerTests : TorchTest, IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "course-train-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    static readonly string Text = string.Concat(Enumerable.Range(0, 400).Select(i => $"line {i % 17}: the quick brown fox jumps over the lazy dog.\n"));

    static TrainingRecipe Tiny => new("tiny", Layers: 1, Heads: 2, Width: 16, ContextLength: 16, BatchSize: 4, Steps: 24, Dropout: 0.1,
        WarmupSteps: 4, EvalInterval: 6, EvalBatches: 2, Seed: 7);

    [Fact]
    public void Resuming_reproduces_the_uninterrupted_loss_curve_exactly()
    {
        var tokenizer = CharTokenizer.FromText(Text);
        using var corpus = new TokenCorpus(tokenizer.Encode(Text));
        List<double> straight;
        using (var trainer = new GptTrainer(Tiny, tokenizer, corpus, CPU, Path.Combine(folder, "a")))
        {
            trainer.Run();
            straight = trainer.Metrics.Steps.Select(s => s.Loss).ToList();
        }
        using (var first = new GptTrainer(Tiny, tokenizer, corpus, CPU, Path.Combine(folder, "b")))
            first.Run(stopAfterStep: 12);
        manual_seed(999); // disturb the global generator: resume must restore it
        using var resumed = new GptTrainer(Tiny, tokenizer, corpus, CPU, Path.Combine(folder, "b"), resume: true);
        Assert.Equal(12, resumed.Step);
        resumed.Run();
        Assert.Equal(24, straight.Count);
        Assert.Equal(straight, resumed.Metrics.Steps.Select(s => s.Loss).ToList());
        Assert.Equal(4, resumed.Metrics.Evaluations.Count);
        Assert.Equal(25, File.ReadAllLines(Path.Combine(folder, "b", "steps.csv")).Length);
        Assert.Equal(24, Checkpoint.ReadInfo(Path.Combine(folder, "b", GptTrainer.CheckpointFile)).Step);
    }

    [Fact]
    public void A_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint()
    {
        var tokenizer = CharTokenizer.FromText(Text);
        using var corpus = new TokenCorpus(tokenizer.Encode(Text));
        using var trainer = new GptTrainer(Tiny, tokenizer, corpus, CPU, folder);
        trainer.Run(stopAfterStep: 6);
        var path = Path.Combine(folder, GptTrainer.CheckpointFile);
        var before = File.ReadAllBytes(path);
        using (no_grad()) trainer.Model.parameters().First().fill_(float.NaN);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
        Assert.Contains("step 7", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(6, Checkpoint.ReadInfo(path).Step);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    [Fact]
    public void A_truncated_checkpoint_is_rejected_clearly()
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "bad.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadInfo(path));
        Assert.Contains("not a course checkpoint", e.Message);
    }

    [Fact]
    public void Counts_flops_per_step()
    {
        var config = TrainingRecipe.Cpu.ModelConfig(65);
        long nonEmbedding = 4 * (128L * 384 + 384 + 128 * 128 + 128 + 128 * 512 + 512 + 512 * 128 + 128 + 4 * 128) + 65 * 128 + 2 * 128;
        var perToken = 6.0 * nonEmbedding + 12.0 * 4 * 64 * 128;
        Assert.Equal(perToken * 12 * 64, FlopCounter.PerStep(config, nonEmbedding, 12), 6);
    }
}
