using TorchSharp;
using TransformerCourse.Gpt;
using TransformerCourse.Scaling;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 16 (Causal Language Modelling).</summary>
public static class Lesson16
{
    /// <summary>
    /// Exercise 1: the mean next-token loss of logits (B, T, V) that a model computed from tokens (B, T): position t is
    /// scored against token t + 1, the last position has no target. Returns a scalar tensor, in nats.
    /// </summary>
    public static Verdict ShiftedLoss(Func<Tensor, Tensor, Tensor> yours) => Check("your ShiftedLoss",
        "go back to section 2, \"The next-token loss\": which token is the target of the prediction made at position t, and how many predictions does a sequence of T tokens hold?",
        () =>
        {
            var generator = new Generator(16);
            foreach (var (b, t, v) in new[] { (2, 6, 5), (1, 2, 7), (3, 9, 11) })
            {
                var logits = randn([b, t, v], generator: generator) * 2;
                var tokens = randint(0, v, [b, t], generator: generator);
                string what = $"for logits of shape [{b}, {t}, {v}]";
                var answer = Forbidding(["NextTokenLoss.PerPosition", "NextTokenLoss.Mean"], () => yours(logits.clone(), tokens.clone()));
                Expect(answer is not null, "it returns null; return the mean loss as a one-element tensor.");
                Expect(answer!.NumberOfElements == 1,
                    $"{what} it returns a tensor of shape {Guard.Shape(answer)}; the loss is one number, the mean over every prediction in the batch.");
                double got = answer.to_type(ScalarType.Float64).item<double>();
                Expect(!double.IsNaN(got), $"{what} it returns NaN.");
                var nll = Gpt.NextTokenLoss.PerPosition(logits, tokens).to_type(ScalarType.Float64);
                double want = nll.mean().item<double>();
                if (Math.Abs(got - want) <= 1e-4) continue;
                Expect(got != 0, "it still returns 0: replace the placeholder with the loss.");
                string result = $"{what} you get {got:0.0000} instead of {want:0.0000}";
                double Ce(Tensor l, Tensor y) => nn.functional.cross_entropy(l.reshape(-1, v), y.reshape(-1)).to_type(ScalarType.Float64).item<double>();
                bool Near(double x) => Math.Abs(got - x) <= 1e-4;
                Expect(!Near(Ce(logits, tokens)), $"{result}: every position is scored against the token it has just read, not the next one (no shift).");
                Expect(!Near(Ce(logits[.., 1..], tokens[.., ..^1])), $"{result}: the shift goes the wrong way: position t is scored against token t − 1.");
                Expect(!Near(Ce(logits, tokens.roll(-1, 1))), $"{result}: the last position is scored against the first token (a wrap-around); it has no next token inside the sequence and gives no prediction.");
                Expect(!Near(nll.sum().item<double>()), $"{result}: that is the sum over the predictions; the loss is their mean.");
                Expect(!Near(nll.sum().item<double>() / (b * t)), $"{result}: you divided by B·T = {b * t}, but a sequence of T tokens holds only T − 1 predictions.");
                var picked = logits[.., ..^1].gather(-1, tokens[.., 1..].unsqueeze(-1)).to_type(ScalarType.Float64);
                Expect(!Near(-picked.mean().item<double>()), $"{result}: you used the raw logit of the right token; the loss is minus its log-probability (a log-softmax first).");
                Expect(!Near(-logits[.., ..^1].softmax(-1).gather(-1, tokens[.., 1..].unsqueeze(-1)).to_type(ScalarType.Float64).mean().item<double>()),
                    $"{result}: you averaged minus the probability; the loss is minus the *logarithm* of the probability.");
                Expect(!Near(want / Math.Log(2)), $"{result}: that is in bits (log base 2); the course measures the loss in nats, with the natural logarithm.");
                Expect(false, $"{result}.");
            }
        });

    /// <summary>
    /// Exercise 2: the perplexity of a corpus from per-token losses (nats), one array per document of any length:
    /// every token counts once, whatever document it is in.
    /// </summary>
    public static Verdict CorpusPerplexity(Func<List<double[]>, double> yours) => Check("your CorpusPerplexity",
        "go back to section 3, \"Perplexity, two ways\": it is defined per token, so ask what a document with more tokens should weigh, and in which units the losses are.",
        () =>
        {
            var random = new Random(16);
            var cases = new List<List<double[]>>
            {
                new() { new[] { 0.5, 1.5, 1.0, 2.0, 0.25, 0.75 }, new[] { 3.0, 2.5 } },
                new() { new[] { 1.2 }, new[] { 0.1, 0.2, 0.3 }, new[] { 2.2, 1.9, 2.4, 2.0, 2.1 } },
                new() { new[] { 4.0, 3.0, 1.0 } },
            };
            cases.Add(Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, random.Next(1, 12)).Select(_ => random.NextDouble() * 4).ToArray()).ToList());
            foreach (var docs in cases)
            {
                var copy = docs.Select(d => d.ToArray()).ToList();
                double got = Forbidding(["NextTokenLoss.Perplexity", "NextTokenLoss.GeometricMeanInverseProbability"], () => yours(copy));
                Expect(copy.Zip(docs).All(p => p.First.SequenceEqual(p.Second)), "it changed the losses it was given; perplexity only reads them.");
                var all = docs.SelectMany(d => d).ToArray();
                double want = Math.Exp(all.Average());
                if (Math.Abs(got - want) <= 1e-9 * want) continue;
                Expect(got != 0, "it still returns 0: replace the placeholder with the perplexity.");
                string shown = string.Join(" | ", docs.Select(d => string.Join(", ", d.Select(x => x.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)))));
                string result = $"for the documents [{shown}] you get {got:0.####} instead of {want:0.####}";
                bool Near(double x) => Math.Abs(got - x) <= 1e-9 * Math.Max(1, Math.Abs(x));
                Expect(!Near(all.Average()), $"{result}: that is the mean loss itself; perplexity turns it back into a number of equally likely choices.");
                Expect(!Near(docs.Average(d => Math.Exp(d.Average()))), $"{result}: you averaged the documents' perplexities; perplexity is not an average of perplexities, it comes from the mean loss over all tokens.");
                Expect(!Near(Math.Exp(docs.Average(d => d.Average()))), $"{result}: you averaged the documents' mean losses, so a short document weighs as much as a long one; every token should count once.");
                Expect(!Near(Math.Pow(2, all.Average())), $"{result}: 2 to the mean loss is right only for losses in bits; these are in nats.");
                Expect(!Near(Math.Exp(all.Sum())), $"{result}: you used the total loss; perplexity uses the mean per token.");
                Expect(false, $"{result}.");
            }
        });

    /// <summary>
    /// Exercise 3: the number of parameters of a <see cref="GptModel"/> from its configuration, tied or untied output layer
    /// (an untied one is a V × d matrix without bias). Compared with real models built outside the check.
    /// </summary>
    public static Verdict CountParameters(Func<GptConfig, long> yours)
    {
        GptConfig[] configs =
        [
            new(65, 64, 4, 4, 128), new(65, 64, 4, 4, 128, TiedHead: false), new(50, 10, 3, 2, 6), new(1000, 32, 2, 2, 8, TiedHead: false), new(7, 5, 1, 1, 4),
        ];
        var actual = configs.Select(c => { using var m = new GptModel(c); return m.ParameterCount; }).ToList();
        // GPT-3's shape is far too big to build; its count comes from the closed form, which the other rows check
        // against built models. It exposes a count done in 32-bit integers (12·96·12,288² overflows int).
        var gpt3 = new GptConfig(ModelSizes.Gpt3.VocabSize, ModelSizes.Gpt3.ContextLength, ModelSizes.Gpt3.Layers, ModelSizes.Gpt3.Heads, ModelSizes.Gpt3.Width);
        configs = [.. configs, gpt3];
        actual.Add(ModelSizes.Total(gpt3));
        return Check("your CountParameters",
            "go back to sections 6 and 7 (weight tying, GPT-1, GPT-2 and GPT-3 as data): list every tensor of the model (each Linear's bias, each LayerNorm's two vectors, both embedding tables) and ask what an output layer shared with the embedding costs.",
            () =>
            {
                var answers = Forbidding(["new GptModel(...)", "GptModel.ParameterCount", "new GptBlock(...)", "new Mlp(...)", "new CausalSelfAttention(...)", "ModelSizes.Total",
                        "ModelSizes.BlockParameters", "ModelSizes.EmbeddingParameters", "ModelSizes.NonEmbeddingParameters"],
                    () => configs.Select(yours).ToArray());
                for (int i = 0; i < configs.Length; i++)
                {
                    var c = configs[i];
                    long got = answers[i], want = actual[i], d = c.Width, l = c.Layers, vd = (long)c.VocabSize * d;
                    if (got == want) continue;
                    string which = $"for V = {c.VocabSize}, T = {c.ContextLength}, L = {l}, d = {d}, {(c.TiedHead ? "tied" : "untied")} head, you get {got:N0} instead of {want:N0}";
                    Expect(got != 0, "it still returns 0: replace the placeholder with your formula.");
                    Expect(!answers.All(a => a == got), $"it returns {got:N0} for every configuration: the count must be computed from the configuration.");
                    Expect(!(c.TiedHead && got == want + vd), $"{which}: you counted the output layer, but a tied head reuses the token embedding and adds nothing.");
                    Expect(!(!c.TiedHead && got == want - vd), $"{which}: the untied output layer, a V × d matrix of its own, is missing.");
                    Expect(!(!c.TiedHead && got == want + c.VocabSize), $"{which}: the untied output layer has no bias, only its V × d matrix.");
                    Expect(got != want - (long)c.ContextLength * d, $"{which}: the position embedding table is missing.");
                    Expect(got != want - l * 9 * d, $"{which}: the biases of the four Linear layers in each block are missing.");
                    Expect(got != want - (l * 4 * d + 2 * d), $"{which}: the layer norms (a gain and an offset vector each, two per block and one at the end) are missing.");
                    Expect(got != want - 2 * d, $"{which}: the final layer norm after the last block is missing.");
                    Expect(got != want - (2 * l + 1) * d, $"{which}: each layer norm holds two vectors, a gain and an offset; you counted one.");
                    Expect(got != 12 * l * d * d, $"{which}: 12·L·d² counts only the matrices inside the blocks.");
                    Expect(!(want > int.MaxValue && got == unchecked((int)want)), $"{which}: the count overflowed: at this size it is larger than an int can hold, so compute it in long.");
                    Expect(false, $"{which}.");
                }
            });
    }
}
