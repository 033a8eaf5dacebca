using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.InstructionTuning;

/// <summary>How the base model is pretrained and then fine-tuned: AdamW at a constant rate, clipping at 1, fixed seeds.</summary>
/// <param name="PretrainCharacters">Length of the plain pretraining text (<see cref="InstructionTasks.PlainText"/>).</param>
public sealed record SftOptions(int PretrainSteps = 300, int SftSteps = 600, int BatchSize = 32, double LearningRate = 2e-3, int Seed = 0,
    int PretrainCharacters = 100_000);

/// <summary>A trained model, its training history and the wall time it took.</summary>
public sealed record SftRun(GptModel Model, IReadOnlyList<TrainingStep> History, double Seconds) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>Exact-match accuracy per task and over all pairs (key "all").</summary>
public sealed record ExactMatchScores(IReadOnlyDictionary<string, double> ByTask, double All);

/// <summary>
/// Pretrains lesson 16's <see cref="GptModel"/> on plain text, then fine-tunes a copy of it on instruction–response pairs
/// with the loss on the response tokens only (<see cref="ResponseMasking"/>), both through the course's one
/// <see cref="TrainingLoop{TBatch}"/>; answers instructions by greedy decoding and scores them by exact match.
/// </summary>
public static class InstructionTuner
{
    /// <summary>The lesson's model shape: the instruction alphabet, a context that holds the longest instruction and response.</summary>
    public static GptConfig Config(int layers = 2, int heads = 4, int width = 64) =>
        new(VocabSize: InstructionTasks.Tokenizer.VocabSize, ContextLength: 32, Layers: layers, Heads: heads, Width: width);

    /// <summary>Next-token training on <see cref="InstructionTasks.PlainText"/> (random windows of the context length).</summary>
    public static SftRun Pretrain(GptConfig config, SftOptions options, Device? device = null)
    {
        device ??= CPU;
        var tokenizer = InstructionTasks.Tokenizer;
        using var corpus = new TokenCorpus(tokenizer.Encode(InstructionTasks.PlainText(options.PretrainCharacters, options.Seed)));
        manual_seed(options.Seed);
        var model = new GptModel(config);
        model.to(device);
        var generator = new Generator((ulong)options.Seed);
        return Train(model, options.PretrainSteps, options,
            () => corpus.Batch(false, options.BatchSize, config.ContextLength, generator, device),
            batch => model.Loss(batch.Inputs, batch.Targets));
    }

    /// <summary>
    /// A copy of <paramref name="baseModel"/> trained on random training-side instruction pairs with the prompt masked out of the
    /// loss. With <paramref name="maskPrompt"/> false every next token counts, prompt included (for comparison).
    /// </summary>
    public static SftRun FineTune(GptModel baseModel, SftOptions options, Device? device = null, bool maskPrompt = true)
    {
        device ??= CPU;
        var config = baseModel.Config;
        if (InstructionTasks.MaxTextLength > config.ContextLength + 1)
            throw new ArgumentException($"the model's context ({config.ContextLength}) cannot hold the longest instruction and response ({InstructionTasks.MaxTextLength} characters).", nameof(baseModel));
        manual_seed(options.Seed + 1);
        var model = Copy(baseModel, device);
        var random = new Random(options.Seed + 1);
        var tokenizer = InstructionTasks.Tokenizer;
        long pad = tokenizer.Encode(InstructionTasks.EndOfResponse.ToString())[0];
        return Train(model, options.SftSteps, options,
            () =>
            {
                var examples = Enumerable.Range(0, options.BatchSize).Select(_ =>
                {
                    var pair = InstructionTasks.RandomPair(random, heldOut: false);
                    return (tokenizer.Encode(pair.Text), maskPrompt ? pair.Prompt.Length : 1);
                }).ToList();
                return ResponseMasking.Batch(examples, config.ContextLength, pad, device);
            },
            batch => ResponseMasking.Loss(model.forward(batch.Inputs), batch.Labels));
    }

    /// <summary>The mean response-only loss of <paramref name="model"/> on <paramref name="pairs"/> (nats per response token).</summary>
    public static double ResponseLoss(GptModel model, IReadOnlyList<InstructionPair> pairs)
    {
        var device = model.parameters().First().device;
        var tokenizer = InstructionTasks.Tokenizer;
        long pad = tokenizer.Encode(InstructionTasks.EndOfResponse.ToString())[0];
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var (inputs, labels) = ResponseMasking.Batch(pairs.Select(p => (tokenizer.Encode(p.Text), p.Prompt.Length)).ToList(), model.Config.ContextLength, pad, device);
            return ResponseMasking.Loss(model.forward(inputs), labels).to_type(ScalarType.Float64).item<double>();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Greedy answers: each prompt continued one most-likely token at a time (KV cache), cut after the first '.'.</summary>
    public static IReadOnlyList<string> Respond(GptModel model, IReadOnlyList<InstructionPair> pairs)
    {
        var tokenizer = InstructionTasks.Tokenizer;
        int budget = InstructionTasks.MaxInputLength + 2;
        bool wasTraining = model.training;
        try
        {
            return pairs.Select(p =>
            {
                var prompt = tokenizer.Encode(p.Prompt);
                var all = TextSampler.Generate(model, prompt, budget, new SamplingOptions(Temperature: 0));
                var text = tokenizer.Decode(all.Skip(prompt.Length));
                int end = text.IndexOf(InstructionTasks.EndOfResponse);
                return end >= 0 ? text[..(end + 1)] : text;
            }).ToList();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Share of <paramref name="responses"/> equal to the expected response (end mark included), per task and overall.</summary>
    public static ExactMatchScores ExactMatch(IReadOnlyList<InstructionPair> pairs, IReadOnlyList<string> responses)
    {
        if (pairs.Count != responses.Count)
            throw new ArgumentException($"responses has {responses.Count} entries for {pairs.Count} pairs.", nameof(responses));
        if (pairs.Count == 0) throw new ArgumentException("pairs must hold at least one instruction.", nameof(pairs));
        var hits = pairs.Select((p, i) => (p.Task, Hit: responses[i] == p.Response)).ToList();
        var byTask = hits.GroupBy(h => h.Task).ToDictionary(g => g.Key, g => g.Average(h => h.Hit ? 1.0 : 0.0));
        return new ExactMatchScores(byTask, hits.Average(h => h.Hit ? 1.0 : 0.0));
    }

    /// <summary>The trivial strategy: answer with the input itself (plus the end mark).</summary>
    public static IReadOnlyList<string> CopyTheInput(IReadOnlyList<InstructionPair> pairs) =>
        pairs.Select(p => p.Input + InstructionTasks.EndOfResponse).ToList();

    static GptModel Copy(GptModel source, Device device)
    {
        var copy = new GptModel(source.Config);
        copy.to(device);
        using var noGrad = no_grad();
        foreach (var (target, from) in copy.parameters().Zip(source.parameters())) target.copy_(from);
        return copy;
    }

    static SftRun Train<TBatch>(GptModel model, int steps, SftOptions options, Func<TBatch> nextBatch, Func<TBatch, Tensor> loss)
    {
        var optimizer = optim.AdamW(model.parameters(), options.LearningRate, weight_decay: 0.0);
        var loop = new TrainingLoop<TBatch>(model, optimizer, nextBatch, batch => loss(batch), new TrainingLoopOptions(steps, GradientClip: 1.0));
        var watch = Stopwatch.StartNew();
        loop.Run();
        double seconds = watch.Elapsed.TotalSeconds;
        optimizer.Dispose();
        return new SftRun(model, loop.History, seconds);
    }
}
