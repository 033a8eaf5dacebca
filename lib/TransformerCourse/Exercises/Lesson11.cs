using TorchSharp;
using TransformerCourse.Attention;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Training;
using TransformerCourse.Transformer;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 11 (Training a Transformer).</summary>
public static class Lesson11
{
    static readonly (int V, double Epsilon)[] FloorCases = [(37, 0.1), (500, 0.2), (5, 0.4), (1000, 0.05)];

    /// <summary>Exercise 1: the lowest value of a label-smoothed cross-entropy whose target gives the pad token no mass
    /// (the Annotated Transformer's convention): the correct token gets 1 − ε, the V − 2 tokens that are neither the
    /// correct one nor pad get ε/(V − 2) each.</summary>
    public static Verdict SmoothedLossFloor(Func<int, double, double> yours) => Check("your SmoothedLossFloor",
        "revisit \"The loss has a floor\": first write down this exercise's target distribution (which tokens get mass, and how much), then use what that section found about the best prediction for a given target.",
        () =>
        {
            // The cross-entropy −Σ q log p is smallest at p = q (Gibbs' inequality), where it equals the entropy of q.
            static double Truth(int v, double e)
            {
                var q = full(v, e / (v - 2), dtype: ScalarType.Float64);
                q[0].fill_(1 - e);                       // the correct token
                q[1].fill_(0.0);                         // pad: no mass, and 0 · log 0 counts as 0
                var p = q.clamp_min(1e-300);
                return -(q * p.log()).sum().item<double>();
            }
            var truth = FloorCases.Select(c => Truth(c.V, c.Epsilon)).ToArray();
            var answers = FloorCases.Select(c => yours(c.V, c.Epsilon)).ToArray();
            bool Near(double a, double b) => double.IsFinite(a) && Math.Abs(a - b) <= 1e-6;
            if (answers.Zip(truth).All(p => Near(p.First, p.Second))) return;

            bool All(Func<int, double, double> wrong) => FloorCases.Select((c, i) => Near(answers[i], wrong(c.V, c.Epsilon))).All(x => x);
            static double Entropy(double top, double rest, double count) => -top * Math.Log(top) - count * rest * Math.Log(rest);
            Expect(!All((_, _) => 0), "0 is the floor of the plain cross-entropy. With smoothing the target itself is spread out, so even the best prediction cannot reach 0.");
            Expect(!All((v, e) => Entropy(1 - e + e / v, e / v, v - 1)),
                "it is the floor for the lesson's q, where every token (pad and the correct one too) gets ε/V; in this exercise pad gets nothing and the correct token gets exactly 1 − ε.");
            Expect(!All((v, e) => Entropy(1 - e, e / (v - 1), v - 1)),
                "it spreads ε over V − 1 tokens, so pad still gets a share; in this exercise pad gets no mass at all.");
            Expect(!All((v, e) => -Math.Log(1 - e)) && !All((v, e) => -(1 - e) * Math.Log(1 - e)),
                "it keeps only the correct token's term; the tokens that share ε contribute to the loss as well.");
            Expect(!All((v, e) => truth[Array.FindIndex(FloorCases, c => c.V == v)] / Math.Log(2)), "it is in bits (log base 2); the loss in this lesson is in nats (natural log).");
            for (int i = 0; i < FloorCases.Length; i++)
                Expect(Near(answers[i], truth[i]),
                    $"for V = {FloorCases[i].V}, ε = {FloorCases[i].Epsilon} it returns {answers[i]:F6}; the lowest loss against this target distribution is {truth[i]:F6} (tolerance 1E-06).");
        });

    /// <summary>
    /// Exercise 2: greedy decoding written with <c>model.Encode</c> and <c>model.Decode</c>:
    /// (model, source ids, maxLength) → generated ids without &lt;bos&gt; and &lt;eos&gt;. The check runs it on the
    /// trained model (held-out sources, and a length limit that cuts a translation short) and on untrained models
    /// with random weights, where a missing causal mask changes the output; it also counts how often the encoder runs.
    /// </summary>
    public static Verdict Greedy(Func<EncoderDecoderTransformer, long[], int, long[]> yours, EncoderDecoderTransformer trained, SyntheticTranslation task)
        => Check("your MyGreedy",
        "revisit \"Greedy decoding and beam search\" and \"Teacher forcing\": at each step the decoder reads the whole prefix under the same mask it was trained with, and only its last position predicts the next token. The source does not change while you decode.",
        () =>
        {
            var special = task.Vocabulary.Special;
            var probes = new List<(EncoderDecoderTransformer Model, long[] Source, int MaxLength, string What)>();
            var heldOut = task.HeldOut.Where((_, i) => i % 211 == 17).Take(5).ToArray();
            foreach (var e in heldOut) probes.Add((trained, task.Vocabulary.Encode(e.Source), task.MaxTargetLength, $"held-out \"{e.Source}\""));
            var date = task.HeldOut.Last(e => e.Task == TranslationTask.DateToText);
            probes.Add((trained, task.Vocabulary.Encode(date.Source), 3, $"\"{date.Source}\" with maxLength 3"));
            // A source that comes out of a padded batch: real tokens, then pad ids (the source mask must hide them).
            var shortOne = task.HeldOut.First(e => e.Task == TranslationTask.DigitsToWords);
            long[] padded = [.. task.Vocabulary.Encode(shortOne.Source), .. Enumerable.Repeat(special.Pad, 6)];
            using var generator = new Generator(seed: 11);
            var device = trained.parameters().First().device;
            var untrained = new[]
            {
                RandomModel(new TransformerConfig(task.Vocabulary.Count, Width: 32, Heads: 4, FeedForwardWidth: 64, EncoderLayers: 1, DecoderLayers: 2, MaxLength: 32), generator, device),
                RandomModel(new TransformerConfig(task.Vocabulary.Count, Width: 24, Heads: 2, FeedForwardWidth: 48, EncoderLayers: 2, DecoderLayers: 3, MaxLength: 32), generator, device),
            };
            foreach (var (model, index) in untrained.Select((m, i) => (m, i)))
                foreach (var (length, maxLength) in new[] { (4, 9), (7, 6), (5, 12) })
                {
                    var source = randint(3, task.Vocabulary.Count, [length], generator: generator).data<long>().ToArray();
                    probes.Add((model, source, maxLength, $"a random source of {length} tokens on untrained model {index + 1}"));
                }
            foreach (var (model, index) in untrained.Select((m, i) => (m, i)))
                probes.Add((model, padded, 8, $"\"{shortOne.Source}\" followed by 6 pad tokens on untrained model {index + 1}"));
            try
            {
                foreach (var (model, source, maxLength, what) in probes)
                {
                    model.eval();
                    var want = Seq2SeqDecoding.Greedy(model, tensor(source, [1, source.Length], device: device), special, maxLength)[0].Tokens;
                    long encodesBefore = model.EncodeCalls;
                    var got = Forbidding(["Seq2SeqDecoding.Greedy", "Seq2SeqDecoding.Beam"], () => yours(model, [.. source], maxLength));
                    long encodes = model.EncodeCalls - encodesBefore;
                    Expect(got is not null, "it returns null.");
                    Expect(got!.Length == 0 || got[0] != special.Bos, "its output starts with <bos>: leave the start token out of the result.");
                    Expect(got.Length <= maxLength, $"on {what} it returns {got.Length} tokens; it must stop after maxLength = {maxLength}.");
                    Expect(!got.Contains(special.Eos), "its output contains <eos>: stop at <eos> and leave it out of the result.");
                    if (!got.SequenceEqual(want))
                    {
                        Expect(!(got.Length == 0 && want.Length > 0), $"on {what} it returns no tokens; greedy decoding gives {want.Length} tokens.");
                        Expect(!(source.Contains(special.Pad) && got.SequenceEqual(WithoutCausalMask(model, source, maxLength, special, sourceMask: false))),
                            $"on {what} its tokens are what the model gives when the padded source positions are not masked: build the source mask from the pad id and pass it to both Encode and Decode.");
                        Expect(!got.SequenceEqual(WithoutCausalMask(model, source, maxLength, special)),
                            $"on {what} its tokens are what the decoder gives without the causal mask: the model was trained with the mask, so decoding must use it too (it matters from the second decoder layer on).");
                        int step = Enumerable.Range(0, Math.Min(got.Length, want.Length)).FirstOrDefault(t => got[t] != want[t], Math.Min(got.Length, want.Length));
                        Expect(false, $"on {what} its tokens first differ from greedy decoding at step {step + 1} ({string.Join(" ", got)} instead of {string.Join(" ", want)}).");
                    }
                    Expect(encodes <= 1, $"it runs the encoder {encodes} times for one source; the source does not change, so encode it once and reuse the memory at every step.");
                }
            }
            finally
            {
                foreach (var m in untrained) m.Dispose();
            }
        });

    // An untrained model whose weights come from the check's own generator (the notebook's random state is untouched).
    static EncoderDecoderTransformer RandomModel(TransformerConfig config, Generator generator, Device device)
    {
        var model = new EncoderDecoderTransformer(config);
        using (no_grad())
            foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: generator) * 0.5);
        model.to(device);
        model.eval();
        return model;
    }

    // Greedy decoding that forgets the causal mask, or (sourceMask: false) the source padding mask: mistakes the check names.
    static long[] WithoutCausalMask(EncoderDecoderTransformer model, long[] sourceIds, int maxLength, SpecialTokens special, bool sourceMask = true)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = model.parameters().First().device;
        var source = tensor(sourceIds, [1, sourceIds.Length], device: device);
        var mask = sourceMask ? Seq2SeqMasks.Source(source, special.Pad) : null;
        var memory = model.Encode(source, mask);
        var generated = new List<long> { special.Bos };
        for (int t = 0; t < maxLength; t++)
        {
            var prefix = tensor(generated.ToArray(), [1, generated.Count], device: device);
            // Without the source mask this is the mistake "forgot the source mask" (with the causal mask kept).
            var logits = sourceMask
                ? model.Decode(prefix, memory, mask)
                : model.Decode(prefix, memory, null, Masks.Causal(generated.Count, device));
            long next = logits[0, -1].argmax().item<long>();
            if (next == special.Eos) break;
            generated.Add(next);
        }
        return [.. generated.Skip(1)];
    }
}
