using TransformerCourse.Data;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>
/// The `cpu` recipe on Tiny Shakespeare. The full 2000-step run and its nanoGPT comparison (val ≤ 1.90) are asserted by
/// Lesson27Tests, which trains it once in the lesson; here we check the settings and that a short run learns.
/// </summary>
public class CpuRecipeTests : TorchTest
{
    [Fact]
    public void The_cpu_recipe_is_nanoGPTs_cpu_command()
    {
        // python train.py config/train_shakespeare_char.py --device=cpu --compile=False --eval_iters=20 --log_interval=1
        //   --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0
        var r = TrainingRecipe.Cpu;
        Assert.Equal((4, 4, 128, 64, 12, 2000, 0.0), (r.Layers, r.Heads, r.Width, r.ContextLength, r.BatchSize, r.Steps, r.Dropout));
        Assert.Equal((1e-3, 1e-4, 0.9, 0.99, 0.1, 100, 1.0), (r.LearningRate, r.MinLearningRate, r.Beta1, r.Beta2, r.WeightDecay, r.WarmupSteps, r.GradientClip));
        Assert.Equal((250, 20), (r.EvalInterval, r.EvalBatches));
    }

    [Fact]
    public async Task A_short_cpu_run_beats_the_unigram_baseline()
    {
        var data = await TinyShakespeare.LoadAsync(TestData.Mirror());
        using var corpus = data.Corpus();
        using var trainer = new GptTrainer(TrainingRecipe.Cpu with { Steps = 150, EvalInterval = 150 }, data.Tokenizer, corpus, CPU);
        trainer.Run();
        var last = Assert.Single(trainer.Metrics.Evaluations);
        var unigram = NgramBaseline.Unigram(corpus.Train, corpus.Validation, data.Tokenizer.VocabSize);
        Assert.True(last.ValidationLoss < unigram, $"validation loss {last.ValidationLoss:0.000} after 150 steps, unigram baseline {unigram:0.000}");
    }
}
