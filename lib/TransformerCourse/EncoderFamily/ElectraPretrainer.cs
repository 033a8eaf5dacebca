using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Bert;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>ELECTRA's two networks trained together: a small MLM generator and the discriminator.</summary>
public sealed class ElectraPair : nn.Module
{
    private readonly EncoderVariant generator;
    private readonly ElectraDiscriminator discriminator;

    public ElectraPair(EncoderVariantConfig generatorConfig, EncoderVariantConfig discriminatorConfig) : base(nameof(ElectraPair))
    {
        if (generatorConfig.VocabSize != discriminatorConfig.VocabSize)
            throw new ArgumentException($"the generator's vocabulary ({generatorConfig.VocabSize}) differs from the discriminator's ({discriminatorConfig.VocabSize}).", nameof(discriminatorConfig));
        generator = new EncoderVariant(generatorConfig);
        discriminator = new ElectraDiscriminator(discriminatorConfig);
        RegisterComponents();
    }

    public EncoderVariant Generator => generator;
    public ElectraDiscriminator Discriminator => discriminator;
}

/// <summary>Held-out replaced-token detection scores.</summary>
/// <param name="Accuracy">Share of real tokens labelled correctly (replaced or original).</param>
/// <param name="AllOriginalAccuracy">The baseline that calls every token original: the share of tokens not replaced.</param>
/// <param name="ReplacedFound">Share of replaced tokens the discriminator flags (recall).</param>
/// <param name="OriginalKept">Share of original tokens it calls original.</param>
/// <param name="ReplacedShare">Share of tokens replaced (a generator sample equal to the original does not count).</param>
public sealed record DetectionScores(double Accuracy, double AllOriginalAccuracy, double ReplacedFound, double OriginalKept, double ReplacedShare, long Tokens);

/// <summary>One token of an inspected line.</summary>
public sealed record DetectedToken(string Original, string Shown, bool Masked, bool Replaced, double ReplacedProbability);

/// <summary>
/// ELECTRA pretraining (Clark et al., 2020) through the course's one <see cref="TrainingLoop{TBatch}"/>: mask 15 % of
/// the tokens (all as [MASK]), let the generator fill them by sampling, and train the discriminator to spot the
/// replaced tokens at every position. Loss = generator MLM loss + λ · discriminator loss (λ = 50 in the paper). The
/// sampling step is not differentiated, so the generator learns from its MLM loss only.
/// </summary>
public sealed class ElectraPretrainer
{
    /// <summary>ELECTRA masks without the 80/10/10 split: every chosen token becomes [MASK].</summary>
    public static MaskingRule Masking { get; } = new(0.15, 1.0, 0.0);

    private readonly BertPretrainingData data;
    private readonly Generator sampler;

    public ElectraPretrainer(ElectraPair model, BertPretrainingData data, BertPretrainingRecipe recipe, double lambda = 50, Device? device = null)
    {
        Model = model;
        this.data = data;
        Recipe = recipe;
        Lambda = lambda;
        Device = device ?? CPU;
        sampler = new Generator((ulong)recipe.Seed + 2);
    }

    public ElectraPair Model { get; }
    public BertPretrainingRecipe Recipe { get; }
    public double Lambda { get; }
    public Device Device { get; }
    public List<TrainingStep> History { get; } = [];
    public double Seconds { get; private set; }

    public void Run()
    {
        manual_seed(Recipe.Seed);
        Model.to(Device);
        using var optimizer = BertOptimizers.AdamW(Model, Recipe);
        var batches = new Generator((ulong)Recipe.Seed + 1);
        var loop = new TrainingLoop<BertBatch>(Model, optimizer,
            () => data.Train.Sample(Recipe.BatchSize, batches, Device, MaskingMode.Dynamic, Masking),
            batch =>
            {
                var genLogits = Model.Generator.Logits(batch.InputIds, batch.AttentionMask);
                var genLoss = VariantPretrainer.MlmLoss(genLogits, batch.MlmLabels);
                var masked = batch.MlmLabels.ne(MlmMasking.IgnoreIndex);
                var c = ReplacedTokenDetection.Corrupt(batch.OriginalIds, masked, genLogits.detach(), sampler);
                var discLoss = ReplacedTokenDetection.Loss(Model.Discriminator.Logits(c.Corrupted, batch.AttentionMask), c.IsReplaced, batch.AttentionMask);
                return new BatchLoss(genLoss + Lambda * discLoss,
                    new Dictionary<string, Tensor> { ["generator"] = genLoss.detach(), ["discriminator"] = discLoss.detach() });
            },
            new TrainingLoopOptions(Recipe.Steps, Recipe.LearningRateAt, Recipe.GradientClip));
        var watch = Stopwatch.StartNew();
        loop.Run();
        Seconds = watch.Elapsed.TotalSeconds;
        History.AddRange(loop.History);
        Model.eval();
    }

    /// <summary>Corrupts fixed held-out batches with the generator (seeded) and scores the discriminator on every real token.</summary>
    public DetectionScores Evaluate(IReadOnlyList<BertBatch> heldOut, ulong seed = 99)
    {
        Model.eval();
        using var noGrad = no_grad();
        var g = new Generator(seed);
        long tokens = 0, right = 0, replaced = 0, found = 0, originals = 0, kept = 0;
        foreach (var b in heldOut)
        {
            using var scope = NewDisposeScope();
            var masked = b.MlmLabels.ne(MlmMasking.IgnoreIndex);
            var c = ReplacedTokenDetection.Corrupt(b.OriginalIds, masked, Model.Generator.Logits(b.InputIds, b.AttentionMask), g);
            var said = Model.Discriminator.Logits(c.Corrupted, b.AttentionMask).gt(0);
            var real = b.AttentionMask;
            tokens += real.sum().item<long>();
            right += said.eq(c.IsReplaced).logical_and(real).sum().item<long>();
            replaced += c.IsReplaced.logical_and(real).sum().item<long>();
            found += said.logical_and(c.IsReplaced).logical_and(real).sum().item<long>();
            var original = c.IsReplaced.logical_not().logical_and(real);
            originals += original.sum().item<long>();
            kept += said.logical_not().logical_and(original).sum().item<long>();
        }
        return new DetectionScores((double)right / tokens, (double)(tokens - replaced) / tokens, (double)found / Math.Max(1, replaced),
            (double)kept / Math.Max(1, originals), (double)replaced / tokens, tokens);
    }

    /// <summary>Masks the tokens of <paramref name="line"/> at <paramref name="positions"/> (0-based, counting the line's
    /// own tokens), lets the generator fill them (seeded) and returns the discriminator's verdict on every token.</summary>
    public List<DetectedToken> Inspect(string line, int[] positions, ulong seed = 5)
    {
        Model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var tokenizer = data.Tokenizer;
        var batch = LineBatch.Encode(tokenizer, [line], Recipe.MaxLength, Device);
        int n = batch.Tokens[0].Length;
        if (positions.Any(p => p < 0 || p + 2 > n))
            throw new ArgumentException($"positions must lie in 0..{n - 3} (the line has {n - 2} tokens).", nameof(positions));
        var maskedArray = new bool[n];
        foreach (int p in positions) maskedArray[p + 1] = true;
        var masked = tensor(maskedArray, [1, n]).to(Device);
        var input = batch.Ids.masked_fill(masked, tokenizer.SpecialId("[MASK]"));
        var c = ReplacedTokenDetection.Corrupt(batch.Ids, masked, Model.Generator.Logits(input, batch.AttentionMask), new Generator(seed));
        var probability = sigmoid(Model.Discriminator.Logits(c.Corrupted, batch.AttentionMask))[0].cpu().data<float>().ToArray();
        var shown = c.Corrupted[0].cpu().data<long>().ToArray();
        var replaced = c.IsReplaced[0].cpu().data<bool>().ToArray();
        return Enumerable.Range(1, n - 2).Select(i => new DetectedToken(tokenizer.Show(batch.Tokens[0][i]), tokenizer.Show((int)shown[i]),
            maskedArray[i], replaced[i], probability[i])).ToList();
    }
}
