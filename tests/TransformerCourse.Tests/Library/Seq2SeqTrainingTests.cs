using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Training;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class Seq2SeqTrainingTests : TorchTest
{
    [Fact]
    public void Label_smoothing_matches_a_hand_computation_and_ignores_padding()
    {
        var logits = tensor(new float[] { 1, 2, 3, 0.5f, 0.5f, 4 }, [2, 3]);
        var targets = tensor(new long[] { 2, 0 });   // the second row is padding (id 0)
        double lse = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        double[] logP = [1 - lse, 2 - lse, 3 - lse];
        double expected = 0.7 * -logP[2] + 0.3 * -(logP.Sum() / 3);
        var loss = LabelSmoothedCrossEntropy.Compute(logits, targets, epsilon: 0.3, ignoreIndex: 0).item<float>();
        Assert.Equal(expected, loss, 1e-6);
        // ε = 0 is TorchSharp's cross-entropy, and any ε agrees with its built-in label_smoothing.
        var (many, ids) = (randn(4, 5, 11), randint(0, 11, [4, 5]));
        foreach (var eps in new[] { 0.0, 0.1 })
        {
            var ours = LabelSmoothedCrossEntropy.Compute(many, ids, eps, ignoreIndex: 3).item<float>();
            var builtIn = nn.functional.cross_entropy(many.reshape(-1, 11), ids.reshape(-1), ignore_index: 3, label_smoothing: eps).item<float>();
            Assert.Equal(builtIn, ours, 1e-5);
        }
        var e = Assert.Throws<ArgumentException>(() => LabelSmoothedCrossEntropy.Compute(randn(2, 3, 5), randint(0, 5, [2, 4])));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("[2, 4]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LabelSmoothedCrossEntropy.Compute(logits, targets, 1.0));
    }

    [Fact]
    public void Noam_schedule_warms_up_linearly_and_peaks_at_warmup()
    {
        var s = new NoamSchedule(512, 4000);
        Assert.Equal(Math.Pow(512, -0.5) * Math.Pow(4000, -0.5), s.Peak, 12);
        Assert.Equal(s.Peak, s.At(4000), 15);
        Assert.True(s.At(3999) < s.Peak && s.At(4001) < s.Peak);
        var peakStep = Enumerable.Range(1, 20000).MaxBy(s.At);
        Assert.Equal(4000, peakStep);
        Assert.Equal(2 * s.At(1), s.At(2), 15);
        Assert.Equal(s.Peak / 2, s.At(16000), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.At(0));
    }

    /// <summary>
    /// A hand-made next-token distribution over {0 = eos, 1 = a, 2 = b, 3 = bos}: greedy takes "a" (0.5) and then can
    /// only end with probability 0.34; "b" (0.4) ends with probability 0.9, which beam search finds.
    /// </summary>
    static double[][] Toy(IReadOnlyList<long[]> prefixes) => prefixes.Select(p => (p.Length switch
    {
        1 => new[] { 0.1, 0.5, 0.4, 0.0 },
        _ when p[1] == 1 => [0.34, 0.33, 0.33, 0.0],
        _ => [0.9, 0.05, 0.05, 0.0],
    }).Select(p => Math.Log(p)).ToArray()).ToArray();

    [Fact]
    public void Beam_search_finds_a_better_sequence_than_greedy_and_width_one_is_greedy()
    {
        var greedy = Seq2SeqDecoding.Greedy(Toy, 3, 0, 5);
        Assert.Equal(new long[] { 1 }, greedy.Tokens);
        Assert.True(greedy.Finished);
        Assert.Equal(Math.Log(0.5 * 0.34), greedy.LogProb, 1e-9);
        Assert.Equal(Math.Log(0.5 * 0.34) / 2, greedy.Score, 1e-9);
        var beam = Seq2SeqDecoding.Beam(Toy, 3, 0, beamWidth: 2, maxLength: 5);
        Assert.Equal(new long[] { 2 }, beam.Tokens);
        Assert.Equal(Math.Log(0.4 * 0.9), beam.LogProb, 1e-9);
        Assert.True(beam.Score > greedy.Score && beam.LogProb > greedy.LogProb);
        var one = Seq2SeqDecoding.Beam(Toy, 3, 0, beamWidth: 1, maxLength: 5);
        Assert.Equal(greedy, one with { Tokens = greedy.Tokens });
        Assert.Equal(greedy.Tokens, one.Tokens);
    }

    // Token 0 is <eos>, 1 is "a", 2 is "b", 3 is <bos>. After <bos>: <eos> 0.5, "a" 0.45; after "a": <eos> 0.99.
    static double[][] EndsEarly(IReadOnlyList<long[]> prefixes) => prefixes.Select(p =>
        (p.Length == 1 ? new[] { 0.5, 0.45, 0.05, 0.0 } : [0.99, 0.005, 0.005, 0.0]).Select(x => Math.Log(x)).ToArray()).ToArray();

    [Fact]
    public void Width_one_is_greedy_only_without_a_length_penalty()
    {
        var greedy = Seq2SeqDecoding.Greedy(EndsEarly, 3, 0, maxLength: 5);
        Assert.Empty(greedy.Tokens);
        Assert.True(greedy.Finished);
        Assert.Equal(Math.Log(0.5), greedy.LogProb, 1e-12);
        // α = 1: greedy's empty output is set aside, the runner-up "a" finishes with a better mean log-probability.
        var normalised = Seq2SeqDecoding.Beam(EndsEarly, 3, 0, beamWidth: 1, maxLength: 5);
        Assert.Equal(new long[] { 1 }, normalised.Tokens);
        Assert.Equal(Math.Log(0.45 * 0.99), normalised.LogProb, 1e-12);
        Assert.True(normalised.Score > greedy.Score);
        // α = 0: exactly greedy.
        var plain = Seq2SeqDecoding.Beam(EndsEarly, 3, 0, beamWidth: 1, maxLength: 5, lengthPenalty: 0);
        Assert.Empty(plain.Tokens);
        Assert.Equal(greedy.LogProb, plain.LogProb, 1e-12);
    }

    // Token 0 is <eos>, 1 is "a", 2 is "b". The likely answer is "a a a"; every prefix can also end early,
    // unlikely, which fills a width-2 beam's finished list before "a a a" ends.
    static double[][] EarlyEndings(IReadOnlyList<long[]> prefixes) => prefixes.Select(p =>
    {
        var tokens = p.Skip(1).ToArray();
        double[] probs = tokens.Length == 3 && tokens.All(t => t == 1) ? [0.99, 0.005, 0.005]
            : tokens.All(t => t == 1) ? [0.05, 0.9, 0.05]
            : [0.9, 0.05, 0.05];
        return probs.Select(v => Math.Log(v)).ToArray();
    }).ToArray();

    [Fact]
    public void Beam_search_does_not_stop_at_the_first_unlikely_endings()
    {
        var greedy = Seq2SeqDecoding.Greedy(EarlyEndings, 3, 0, maxLength: 8);
        var beam = Seq2SeqDecoding.Beam(EarlyEndings, 3, 0, beamWidth: 2, maxLength: 8);
        Assert.Equal(new long[] { 1, 1, 1 }, greedy.Tokens);
        Assert.Equal(greedy.Tokens, beam.Tokens);
        Assert.True(beam.Finished);
        Assert.True(beam.Score >= greedy.Score - 1e-12);
    }

    [Fact]
    public void Beam_width_one_equals_greedy_on_the_transformer()
    {
        var task = new SyntheticTranslation(seed: 1);
        var model = new EncoderDecoderTransformer(new TransformerConfig(task.Vocabulary.Count, Width: 16, Heads: 2, FeedForwardWidth: 32,
            EncoderLayers: 1, DecoderLayers: 1, Dropout: 0.1, MaxLength: 16));
        // A few quick steps so the distribution is not uniform-ish noise.
        Seq2SeqTrainer.Fit(model, task, new Seq2SeqTrainingOptions(Steps: 20, BatchSize: 16, WarmupSteps: 10, LearningRateFactor: 2));
        var examples = task.HeldOut.Where((_, i) => i % 400 == 0).Take(6).ToArray();
        using var batch = task.Batch(examples);
        var greedy = Seq2SeqDecoding.Greedy(model, batch.Source, task.Vocabulary.Special, 10);
        for (int i = 0; i < examples.Length; i++)
        {
            var source = tensor(task.Vocabulary.Encode(examples[i].Source));
            var one = Seq2SeqDecoding.Beam(model, source, task.Vocabulary.Special, 1, 10, lengthPenalty: 0);   // α = 0: exactly greedy
            Assert.Equal(greedy[i].Tokens, one.Tokens);
            Assert.Equal(greedy[i].LogProb, one.LogProb, 1e-4);
            var wide = Seq2SeqDecoding.Beam(model, source, task.Vocabulary.Special, 4, 10);
            Assert.True(wide.Score >= greedy[i].Score - 1e-6, $"beam {wide.Score} < greedy {greedy[i].Score} on '{examples[i].Source}'");
        }
        Assert.False(model.training);
        var e = Assert.Throws<ArgumentException>(() => Seq2SeqDecoding.Greedy(model, batch.Source, task.Vocabulary.Special, 16));
        Assert.Equal("maxLength", e.ParamName);
    }

    [Fact]
    public void Synthetic_translation_is_seeded_and_never_trains_on_held_out_examples()
    {
        var task = new SyntheticTranslation(seed: 7);
        Assert.Equal(task.HeldOut, new SyntheticTranslation(seed: 7).HeldOut);
        Assert.NotEqual(task.HeldOut, new SyntheticTranslation(seed: 8).HeldOut);
        Assert.Empty(task.Train.Select(e => e.Source).Intersect(task.HeldOut.Select(e => e.Source)));
        // Held out by meaning: a held-out number appears in no training example in either direction.
        static string Number(TranslationExample e) => e.Task == TranslationTask.WordsToDigits ? e.Target : e.Source.Split(' ', 2)[1];
        var trainNumbers = task.Train.Where(e => e.Task != TranslationTask.DateToText).Select(Number).ToHashSet();
        var heldNumbers = task.HeldOut.Where(e => e.Task != TranslationTask.DateToText).Select(Number).ToHashSet();
        Assert.Equal(100, heldNumbers.Count);
        Assert.Empty(trainNumbers.Intersect(heldNumbers));
        Assert.Equal(1000, trainNumbers.Count + heldNumbers.Count);
        var random = new Random(0);
        var sampled = task.Sample(3000, random);
        Assert.DoesNotContain(sampled, e => heldNumbers.Contains(Number(e)) && e.Task != TranslationTask.DateToText);
        Assert.InRange(sampled.Count(e => e.Task == TranslationTask.DateToText), 900, 1100);
        Assert.Equal(3, task.Tasks.Count);
    }

    [Fact]
    public void Vocabulary_and_batches_have_the_documented_layout()
    {
        var task = new SyntheticTranslation(tasks: [TranslationTask.WordsToDigits, TranslationTask.DateToText]);
        var v = task.Vocabulary;
        Assert.Equal(new SpecialTokens(0, 1, 2), v.Special);
        Assert.Equal(["<pad>", "<bos>", "<eos>"], v.Tokens.Take(3).ToArray());
        Assert.Equal("three hundred forty two", SyntheticTranslation.NumberToWords(342));
        Assert.Equal("seventy", SyntheticTranslation.NumberToWords(70));
        Assert.Equal("nine hundred", SyntheticTranslation.NumberToWords(900));
        Assert.Equal("zero", SyntheticTranslation.NumberToWords(0));
        Assert.Equal("5 march 2024", SyntheticTranslation.DateToText(new DateOnly(2024, 3, 5)));
        foreach (var e in task.Train.Concat(task.HeldOut).Where((_, i) => i % 37 == 0))
        {
            Assert.Equal(e.Source, v.Decode(v.Encode(e.Source)));
            Assert.Equal(e.Target, v.Decode(v.Encode(e.Target)));
        }
        Assert.Equal([v.Id("<to-digits>"), v.Id("forty"), v.Id("two")], v.Encode("<to-digits> forty two"));
        Assert.Equal(11, v.Encode("<date> 2024-03-05").Length);
        var e1 = Assert.Throws<ArgumentException>(() => v.Encode("<to-words> 12"));
        Assert.Contains("<to-words>", e1.Message);
        var examples = new[] { new TranslationExample(TranslationTask.WordsToDigits, "<to-digits> forty two", "42"),
                               new TranslationExample(TranslationTask.WordsToDigits, "<to-digits> seven", "7") };
        using var batch = task.Batch(examples);
        Assert.Equal(new long[] { v.Id("<to-digits>"), v.Id("seven"), 0 }, batch.Source[1].data<long>().ToArray());
        Assert.Equal(new long[] { 1, v.Id("4"), v.Id("2") }, batch.TargetInput[0].data<long>().ToArray());
        Assert.Equal(new long[] { v.Id("4"), v.Id("2"), 2 }, batch.TargetOutput[0].data<long>().ToArray());
        Assert.Equal(new long[] { v.Id("7"), 2, 0 }, batch.TargetOutput[1].data<long>().ToArray());
        Assert.Equal("42", v.Decode([1, v.Id("4"), v.Id("2"), 2, v.Id("9")]));
    }

    [Fact]
    public void Trainer_lowers_the_loss_and_reports_exact_match()
    {
        var task = new SyntheticTranslation(seed: 0, tasks: [TranslationTask.WordsToDigits]);
        var model = new EncoderDecoderTransformer(new TransformerConfig(task.Vocabulary.Count, Width: 32, Heads: 4, FeedForwardWidth: 64,
            EncoderLayers: 1, DecoderLayers: 1, Dropout: 0.0, MaxLength: 16));
        var history = Seq2SeqTrainer.Fit(model, task, new Seq2SeqTrainingOptions(Steps: 60, BatchSize: 32, WarmupSteps: 20, LearningRateFactor: 2));
        Assert.Equal(60, history.Count);
        var (first, last) = (history.Take(5).Average(s => s.Loss), history.Skip(50).Average(s => s.Loss));
        Assert.True(last < first - 0.5, $"loss went from {first:F3} to {last:F3}");
        Assert.Equal(20, history.MaxBy(s => s.LearningRate)!.Step);
        var accuracy = Seq2SeqTrainer.ExactMatch(model, task, task.HeldOut.Take(50).ToArray());
        Assert.InRange(accuracy, 0, 1);
        Assert.Single(Seq2SeqTrainer.Translate(model, task, ["<to-digits> forty two"]));
    }
}
