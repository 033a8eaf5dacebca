using TorchSharp;
using TransformerCourse.Attention;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>The capstone library where it follows nanoGPT: attention dropout, weights-only loading, recipes, checkpoints, baselines.</summary>
public class CapstoneLibraryTests : TorchTest, IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "course-capstone-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    static readonly string Text = string.Concat(Enumerable.Range(0, 400).Select(i => $"line {i % 17}: the quick brown fox jumps over the lazy dog.\n"));

    static TrainingRecipe Tiny => new("tiny", Layers: 1, Heads: 2, Width: 16, ContextLength: 16, BatchSize: 4, Steps: 24, Dropout: 0.0,
        LearningRate: 3e-2, WarmupSteps: 2, EvalInterval: 4, EvalBatches: 2, Seed: 7);

    [Fact]
    public void From_scratch_attention_drops_attention_weights_not_outputs()
    {
        var q = randn(1, 2, 6, 4);
        var k = randn(1, 2, 6, 4);
        var v = ones(1, 2, 6, 4);
        var mask = Masks.Causal(6);
        manual_seed(11);
        var y = CausalSelfAttention.AttendFromScratch(q, k, v, mask, 0.5);
        manual_seed(11);
        using var plain = ScaledDotProductAttention.Compute(q, k, v, mask);
        var expected = nn.functional.dropout(plain.Weights, 0.5, true).matmul(v);
        Assert.True(y.allclose(expected, rtol: 0, atol: 1e-6));
        // With v = 1, dropping outputs would give only 0 or 1/(1 − p) = 2; dropping weights gives partial sums too.
        var values = y.flatten().data<float>().ToArray();
        Assert.Contains(values, x => Math.Abs(x) > 1e-6 && Math.Abs(x - 2) > 1e-4);
        // Without dropout the from-scratch path is exactly softmax(...)·v.
        Assert.True(CausalSelfAttention.AttendFromScratch(q, k, v, mask, 0.0).allclose(plain.Output));
        Assert.Throws<ArgumentException>(() => CausalSelfAttention.AttendFromScratch(q, k, v, mask, 1.0));
    }

    [Fact]
    public void Chunk_mask_lets_each_new_query_see_the_cache_and_its_own_past()
    {
        var m = CausalSelfAttention.ChunkMask(3, 2);
        var expected = tensor(new[,] { { true, true, true, false, false }, { true, true, true, true, false }, { true, true, true, true, true } });
        Assert.True(m.eq(expected).all().item<bool>());
        Assert.True(CausalSelfAttention.ChunkMask(4, 0).eq(Masks.Causal(4)).all().item<bool>());
        var e = Assert.Throws<ArgumentException>(() => CausalSelfAttention.ChunkMask(0, 2));
        Assert.Contains("newPositions", e.Message);
    }

    [Fact]
    public void The_model_counts_the_positions_it_computes()
    {
        using var model = new GptModel(new GptConfig(10, 8, 1, 2, 8));
        model.eval();
        using var noGrad = no_grad();
        model.forward(zeros(2, 5, dtype: ScalarType.Int64));
        Assert.Equal(10, model.PositionsComputed);
        using var cache = new KvCache(1);
        model.Forward(zeros(1, 3, dtype: ScalarType.Int64), cache);
        model.Forward(zeros(1, 1, dtype: ScalarType.Int64), cache);
        Assert.Equal(14, model.PositionsComputed);
    }

    [Fact]
    public void Loading_weights_leaves_the_global_random_generator_alone()
    {
        var tokenizer = CharTokenizer.FromText(Text);
        using var corpus = new TokenCorpus(tokenizer.Encode(Text));
        using (var trainer = new GptTrainer(Tiny, tokenizer, corpus, CPU, folder)) trainer.Run(stopAfterStep: 4);
        var training = Path.Combine(folder, GptTrainer.CheckpointFile);
        var info = Checkpoint.ReadInfo(training);
        var shipped = Path.Combine(folder, "shipped.bin");
        using (var m = new GptModel(info.Model)) { Checkpoint.Load(training, m); Checkpoint.Save(shipped, info, m, optimizer: null, batchGenerator: null); }

        foreach (var path in new[] { training, shipped })
        {
            manual_seed(42);
            var expected = rand(5);
            manual_seed(42);
            using var model = new GptModel(info.Model);   // building the model draws from the generator: rebuild the state after it
            manual_seed(42);
            Checkpoint.Load(path, model);
            Assert.True(rand(5).equal(expected).all().item<bool>(), $"loading {Path.GetFileName(path)} changed the global random state");
        }
        using var resumeModel = new GptModel(info.Model);
        using var optimizer = optim.AdamW(resumeModel.parameters());
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.Load(shipped, resumeModel, optimizer));
        Assert.Contains("weights only", e.Message);
    }

    [Fact]
    public void Try_load_model_explains_what_is_wrong()
    {
        Assert.Null(Checkpoint.TryLoadModel(Path.Combine(folder, "missing.bin"), "abc", out var problem));
        Assert.Equal("there is no such file", problem);
        Directory.CreateDirectory(folder);
        var junk = Path.Combine(folder, "junk.bin");
        File.WriteAllText(junk, "not a checkpoint");
        Assert.Null(Checkpoint.TryLoadModel(junk, "abc", out problem));
        Assert.Contains("not a course checkpoint", problem);

        var tokenizer = CharTokenizer.FromText(Text);
        using var corpus = new TokenCorpus(tokenizer.Encode(Text));
        using (var trainer = new GptTrainer(Tiny, tokenizer, corpus, CPU, folder)) trainer.Run(stopAfterStep: 4);
        var path = Path.Combine(folder, GptTrainer.CheckpointFile);
        Assert.Null(Checkpoint.TryLoadModel(path, "xyz", out problem));
        Assert.Contains("different alphabet", problem);
        using var model = Checkpoint.TryLoadModel(path, new string(tokenizer.Symbols.ToArray()), out problem);
        Assert.NotNull(model);
        Assert.Equal(0, model.Config.Dropout);

        // A file cut partway through its weights: the header reads fine, the weights do not.
        var bytes = File.ReadAllBytes(path);
        var truncated = Path.Combine(folder, "truncated.bin");
        foreach (var keep in new[] { bytes.Length / 5, 200 })   // the training file also holds AdamW's state: a fifth ends inside the weights
        {
            File.WriteAllBytes(truncated, bytes[..keep]);
            Assert.Null(Checkpoint.TryLoadModel(truncated, new string(tokenizer.Symbols.ToArray()), out problem));
            Assert.Contains("truncated", problem);
        }
    }

    [Fact]
    public void The_bigram_sampler_follows_the_pair_counts()
    {
        // 0 is always followed by 1, 1 by 2, 2 by 0 or 1; token 3 never occurs.
        using var train = tensor(new long[] { 0, 1, 2, 0, 1, 2, 1, 2, 0, 1 });
        using var bigram = new BigramSampler(train, 4);
        var greedy = bigram.Generate([0], 6, new SamplingOptions(Temperature: 0));
        Assert.Equal(new long[] { 0, 1, 2, 0, 1, 2, 0 }, greedy);   // after 2: 0 (twice) beats 1 (once)
        var sampled = bigram.Generate([0], 200, new SamplingOptions(1.0), new Generator(5));
        Assert.All(sampled.Zip(sampled.Skip(1)), p => Assert.Contains((p.First, p.Second), new[] { (0L, 1L), (1L, 2L), (2L, 0L), (2L, 1L) }));
        Assert.Equal(sampled, bigram.Generate([0], 200, new SamplingOptions(1.0), new Generator(5)));
        Assert.Equal(4, bigram.Generate([3], 3, new SamplingOptions(1.0), new Generator(1)).Length);   // an unseen token: uniform next
        Assert.Contains("outside 0 … 3", Assert.Throws<ArgumentException>(() => bigram.Generate([7], 1, new SamplingOptions())).Message);
        Assert.Contains("outside 0 … 1", Assert.Throws<ArgumentException>(() => new BigramSampler(train, 2)).Message);
    }

    [Fact]
    public void The_trainer_keeps_the_best_checkpoint_beside_the_last()
    {
        var tokenizer = CharTokenizer.FromText(Text);
        using var corpus = new TokenCorpus(tokenizer.Encode(Text));
        using var trainer = new GptTrainer(Tiny, tokenizer, corpus, CPU, folder);
        trainer.Run();
        var evals = trainer.Metrics.Evaluations;
        var best = evals.MinBy(e => e.ValidationLoss)!;
        var info = Checkpoint.ReadInfo(Path.Combine(folder, GptTrainer.BestCheckpointFile));
        Assert.Equal(best.Step, info.Step);
        Assert.Equal(best.ValidationLoss, info.ValidationLoss);
        Assert.Equal(Tiny.Steps, Checkpoint.ReadInfo(Path.Combine(folder, GptTrainer.CheckpointFile)).Step);
        // The best file holds the weights only: much smaller than the training checkpoint with AdamW's moments.
        Assert.True(new FileInfo(Path.Combine(folder, GptTrainer.BestCheckpointFile)).Length * 2 < new FileInfo(Path.Combine(folder, GptTrainer.CheckpointFile)).Length);
    }

    [Fact]
    public void Recipes_evaluate_like_nanoGPT()
    {
        Assert.Equal(20, TrainingRecipe.Cpu.EvalBatches);   // the README's CPU command: --eval_iters=20
        Assert.Equal(200, TrainingRecipe.Gpu.EvalBatches);  // config/train_shakespeare_char.py: eval_iters = 200
        Assert.Equal(250, TrainingRecipe.Gpu.EvalInterval);
        Assert.False(DeviceSettings.EnableTf32(CPU));        // TF32 is a CUDA setting; the CPU is left alone
    }

    [Fact]
    public void Ngram_baselines_match_hand_counts()
    {
        var train = tensor(new long[] { 0, 1, 0, 1 });
        var validation = tensor(new long[] { 0, 1, 0 });
        // Unigram: counts 2, 2 (+1 each) → p = ½ for both symbols.
        Assert.Equal(Math.Log(2), NgramBaseline.Unigram(train, validation, 2), 10);
        // Bigram: 0→1 twice, 1→0 once; +1 smoothing → p(1|0) = 3/4, p(0|1) = 2/3.
        Assert.Equal(-(Math.Log(0.75) + Math.Log(2.0 / 3)) / 2, NgramBaseline.Bigram(train, validation, 2), 10);
        var e = Assert.Throws<ArgumentException>(() => NgramBaseline.Unigram(train, tensor(new long[] { 0, 5 }), 2));
        Assert.Contains("validation", e.Message);
        Assert.Contains("0 … 1", e.Message);
        Assert.Throws<ArgumentException>(() => NgramBaseline.Bigram(train, tensor(new long[] { 0 }), 2));
    }
}
