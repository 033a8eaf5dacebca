using TransformerCourse.FineTuning;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 14 (Fine-Tuning BERT).</summary>
public static class Lesson14
{
    /// <summary>
    /// Exercise 1: put word labels on sub-word tokens. <c>yours(wordPieces, wordLabels)</c> returns every word's pieces
    /// in order and one label per piece: the word's label on its first piece, <see cref="SubwordAlignment.IgnoreIndex"/>
    /// on the others.
    /// </summary>
    public static Verdict AlignLabels(Func<List<int[]>, int[], (int[] Tokens, int[] Labels)> yours) => Check("your AlignLabels",
        "go back to the section \"Labels for sub-word tokens\": which piece of a word carries its label, and what do the other pieces get so that the loss skips them?",
        () =>
        {
            var random = new Random(14);
            var cases = new List<(List<int[]> Pieces, int[] Labels)>
            {
                ([[5], [7, 8], [9]], [0, 1, 0]),
                ([[3, 4, 5]], [1]),
                ([[2], [2], [6, 6]], [1, 0, 1]),
                ([[11, 12], [13], [14, 15, 16], [17]], [2, 0, 1, 0]),
            };
            for (int c = 0; c < 6; c++)
            {
                int words = random.Next(1, 8);
                cases.Add((Enumerable.Range(0, words).Select(_ => Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(4, 60)).ToArray()).ToList(),
                    Enumerable.Range(0, words).Select(_ => random.Next(0, 3)).ToArray()));
            }
            foreach (var (pieces, labels) in cases)
            {
                var (wantTokens, wantLabels) = SubwordAlignment.Align(pieces, labels);
                string call = $"AlignLabels([{string.Join(", ", pieces.Select(p => "[" + string.Join(", ", p) + "]"))}], [{string.Join(", ", labels)}])";
                var copy = pieces.Select(p => p.ToArray()).ToList();
                var (tokens, got) = Forbidding(["SubwordAlignment.Align"], () => yours(copy, labels.ToArray()));
                Expect(tokens is not null && got is not null, $"{call} returns null.");
                Expect(tokens!.SequenceEqual(wantTokens), $"{call} gives the tokens [{string.Join(", ", tokens!)}] instead of [{string.Join(", ", wantTokens)}]: keep every piece of every word, in order.");
                Expect(got!.Length == tokens!.Length, $"{call} gives {got.Length} labels for {tokens.Length} tokens: one label per token, ignored ones included.");
                if (got!.SequenceEqual(wantLabels)) continue;
                string shown = $"{call} gives the labels [{string.Join(", ", got)}] instead of [{string.Join(", ", wantLabels)}]";
                Expect(got.Any(l => l != SubwordAlignment.IgnoreIndex), $"{shown}: every label is the ignore index, so the loss would have nothing to learn from.");
                var everyPiece = pieces.SelectMany((p, w) => p.Select(_ => labels[w])).ToArray();
                Expect(!got.SequenceEqual(everyPiece), $"{shown}: every piece repeats its word's label, so a word cut into three pieces counts three times in the loss and the accuracy.");
                var lastPiece = pieces.SelectMany((p, w) => p.Select((_, i) => i == p.Length - 1 ? labels[w] : SubwordAlignment.IgnoreIndex)).ToArray();
                Expect(!got.SequenceEqual(lastPiece), $"{shown}: the label sits on the last piece of each word; BERT's recipe puts it on the first.");
                var withZero = wantLabels.Select(l => l == SubwordAlignment.IgnoreIndex ? 0 : l).ToArray();
                Expect(!got.SequenceEqual(withZero), $"{shown}: the extra pieces get 0, which is a real class, so the loss would train them to say class 0. Use the ignore index ({SubwordAlignment.IgnoreIndex}).");
                Expect(false, $"{shown}.");
            }
        });

    /// <summary>
    /// Exercise 2: the sequence-classification head. <c>yours(hidden, weight, bias)</c> maps the encoder's hidden states
    /// (B, T, D), a weight (K, D) and a bias (K) to class scores (B, K) from the [CLS] position.
    /// </summary>
    public static Verdict ClsLogits(Func<Tensor, Tensor, Tensor, Tensor> yours) => Check("your ClsLogits",
        "go back to the section \"Two heads on one encoder\": which position's vector stands for the whole sequence, and which axis of hidden holds the positions?",
        () =>
        {
            var generator = new TorchSharp.torch.Generator(14);
            foreach (var (b, t, d, k) in new[] { (2, 5, 4, 3), (3, 7, 6, 2), (1, 4, 8, 5), (4, 6, 4, 4) })
            {
                using var scope = NewDisposeScope();
                var hidden = randn([b, t, d], generator: generator);
                var weight = randn([k, d], generator: generator);
                var bias = randn([k], generator: generator);
                var want = hidden.select(1, 0).matmul(weight.t()) + bias;
                string call = $"ClsLogits(hidden ({b}, {t}, {d}), weight ({k}, {d}), bias ({k}))";
                Tensor? got;
                try { got = yours(hidden.clone(), weight.clone(), bias.clone()); }
                catch (Exception e) when (e is not NotYetException)
                {
                    throw new NotYetException($"{call} throws {e.GetType().Name}: {e.Message.Split('\n')[0]} The weight is (K, D): to map a D-vector to K scores, multiply by its transpose.");
                }
                Expect(got is not null, $"{call} returns null.");
                if (!got!.shape.SequenceEqual(want.shape))
                {
                    Expect(!(got.dim() == 2 && got.shape[0] == t && got.shape[1] == k),
                        $"{call} returns shape {Guard.Shape(got)}: it scores the positions of the first sequence. The [CLS] vector is position 0 of every sequence, on axis 1, not example 0 on axis 0.");
                    Expect(false, $"{call} returns shape {Guard.Shape(got)} but one score per class for each sequence is ({b}, {k}).");
                }
                if (Same(got, want, 1e-4)) continue;
                Expect(got.abs().max().item<float>() > 0, $"{call} returns only zeros: the placeholder is still there.");
                Expect(!Same(got, hidden.mean([1]).matmul(weight.t()) + bias, 1e-4),
                    $"{call}: it averages all positions (mean pooling). That is a different head; this one reads the [CLS] vector, position 0.");
                Expect(!Same(got, hidden.select(1, t - 1).matmul(weight.t()) + bias, 1e-4),
                    $"{call}: it reads the last position. BERT puts [CLS] first, at position 0.");
                Expect(!Same(got, hidden.select(1, 0).matmul(weight.t()), 1e-4), $"{call}: the bias is missing.");
                Expect(false, $"{call} gives scores that differ from the [CLS] head's by up to {(got - want).abs().max().item<float>():0.###}.");
            }
        });
}
