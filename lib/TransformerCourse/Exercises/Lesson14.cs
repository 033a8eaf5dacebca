using TransformerCourse.FineTuning;
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
    /// Exercise 2: the F1 score of one class. <c>yours(predicted, gold, positive)</c> returns the harmonic mean of the
    /// precision and the recall of class <c>positive</c>, and 0 when no prediction of that class is right.
    /// </summary>
    public static Verdict F1Score(Func<int[], int[], int, double> yours) => Check("your F1Score",
        "go back to the paragraph after the baselines: which words count as found names, as false alarms and as missed names, and which words does F1 leave out?",
        () =>
        {
            var random = new Random(1414);
            var cases = new List<(int[] Predicted, int[] Gold, int Positive)>
            {
                ([1, 0, 1, 1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 1, 1, 0, 0, 0, 0], 1),   // 2 found, 1 false alarm, 2 missed
                ([0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0], 1),                  // tags nothing: F1 0
                ([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 1, 1], 1),
                ([2, 1, 0, 2, 2, 1, 2, 1], [2, 1, 1, 0, 2, 0, 1, 2], 2),      // three classes, class 2 asked for; errors against class 1 too
            };
            for (int c = 0; c < 6; c++)
            {
                int n = random.Next(8, 30);
                var gold = Enumerable.Range(0, n).Select(_ => random.NextDouble() < 0.25 ? 1 : 0).ToArray();
                var predicted = gold.Select(g => random.NextDouble() < 0.25 ? 1 - g : g).ToArray();
                cases.Add((predicted, gold, 1));
            }
            foreach (var (predicted, gold, positive) in cases)
            {
                double want = FineTuner.F1(predicted, gold, positive);
                string call = $"F1Score([{string.Join(", ", predicted)}], [{string.Join(", ", gold)}], {positive})";
                double got = Forbidding(["FineTuner.F1"], () => yours((int[])predicted.Clone(), (int[])gold.Clone(), positive));
                if (Math.Abs(got - want) < 1e-6) continue;   // float arithmetic is fine
                int tp = predicted.Zip(gold).Count(p => p.First == positive && p.Second == positive);
                int fp = predicted.Zip(gold).Count(p => p.First == positive && p.Second != positive);
                int fn = predicted.Zip(gold).Count(p => p.First != positive && p.Second == positive);
                string shown = $"{call} returns {got:0.######} instead of {want:0.######}";
                static bool Near(double a, double b) => Math.Abs(a - b) < 1e-6;
                Expect(!(double.IsNaN(got) && tp == 0), $"{call} returns NaN: with no right prediction of class {positive}, precision or recall divides zero by zero. F1 is 0 then.");
                Expect(!double.IsNaN(got), $"{call} returns NaN although {tp} predictions of class {positive} are right: a division of two whole numbers (int / int) rounded a fraction down to 0.");
                Expect(!(got == 0 && tp > 0), $"{call} returns 0, but {tp} of its predictions of class {positive} are right: the placeholder is still there, or a division of two whole numbers (int / int) rounded the fraction down to 0.");
                double accuracy = predicted.Zip(gold).Count(p => p.First == p.Second) / (double)gold.Length;
                Expect(!Near(got, accuracy), $"{shown}: that is the accuracy over all words. It also counts the words rightly left out of class {positive}, which F1 leaves out.");
                foreach (int other in gold.Concat(predicted).Distinct().Where(k => k != positive))
                    Expect(!Near(got, FineTuner.F1(predicted, gold, other)),
                        $"{shown}: that is the F1 of class {other}. Count the hits and misses of class {positive}, the class asked for.");
                int notPositiveAsZero = predicted.Zip(gold).Count(p => p.First == positive && p.Second == 0) + predicted.Zip(gold).Count(p => p.Second == positive && p.First == 0);
                Expect(!Near(got, tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + notPositiveAsZero)),
                    $"{shown}: it counts only class 0 as \"not class {positive}\". A word of any other class predicted as {positive} is a false alarm too, and a {positive} predicted as any other class is missed.");
                double precision = tp + fp == 0 ? 0 : tp / (double)(tp + fp), recall = tp + fn == 0 ? 0 : tp / (double)(tp + fn);
                Expect(!Near(got, precision), $"{shown}: that is the precision alone ({tp} right of {tp + fp} predicted); F1 also counts the ones that were missed.");
                Expect(!Near(got, recall), $"{shown}: that is the recall alone ({tp} found of {tp + fn}); F1 also counts the false alarms.");
                Expect(!Near(got, (precision + recall) / 2), $"{shown}: that is the plain average of precision and recall. F1 is their harmonic mean, which stays low when either one is low.");
                Expect(false, $"{shown}.");
            }
        });
}
