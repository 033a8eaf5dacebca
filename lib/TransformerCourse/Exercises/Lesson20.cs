using TransformerCourse.InstructionTuning;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 20 (In-Context Learning and Instruction Tuning).</summary>
public static class Lesson20
{
    /// <summary>
    /// Exercise 1: the induction score of one head on one sequence. weights (T, T) has one row per query; the segment
    /// starts at <c>start</c> and is <c>length</c> tokens long; its second copy follows right after it. The score is the
    /// mean, over the queries i of the second copy, of the weight on key i − length + 1.
    /// </summary>
    public static Verdict InductionScore(Func<Tensor, int, int, double> yours) => Check("your InductionScore",
        "go back to \"Induction score\" in section 2: which queries have a previous occurrence of their token, where is the token that " +
        "came right after it, and is a row of the matrix a query or a key?",
        () =>
        {
            var generator = new Generator(20);
            var cases = new List<(string What, Tensor Weights, int Start, int Length)>
            {
                ("random causal weights, T = 20, segment at 4 of length 8", RandomCausal(20, generator), 4, 8),
                ("random causal weights, T = 12, segment at 0 of length 6", RandomCausal(12, generator), 0, 6),
                ("a perfect induction head, T = 16, segment at 6 of length 5", Pattern(16, 6, 5, offset: 1), 6, 5),
                ("a head that looks at the previous occurrence itself, T = 16, segment at 6 of length 5", Pattern(16, 6, 5, offset: 0), 6, 5),
                ("random causal weights, T = 32, segment at 10 of length 11", RandomCausal(32, generator), 10, 11),
                ("random causal weights, T = 20, segment at 2 of length 5 (tokens follow the second copy)", RandomCausal(20, generator), 2, 5),
            };
            foreach (var (what, weights, start, length) in cases)
            {
                double want = Reference(weights, start, length);
                double got = Forbidding(["InductionScores.Induction"], () => yours(weights.clone(), start, length));
                Expect(double.IsFinite(got), $"for {what} it returns {got}, not a number.");
                if (Math.Abs(got - want) <= 1e-5) continue;
                Expect(got != 0 || want == 0,
                    $"for {what} it returns 0, but the score is {want:0.0000}: either the placeholder is still there, or it reads entries above the " +
                    "diagonal, which causal attention sets to 0 (index the matrix as [query, key]).");
                Expect(!Near(got, Mean(weights, start, length, keyOffset: 0)),
                    $"for {what} it returns {got:0.0000}, the weight on the previous occurrence itself (key i − L): an induction head looks one step further, at the token that came after it.");
                Expect(!Near(got, Mean(weights, start, length, keyOffset: 1) * length),
                    $"for {what} it returns {got:0.0000}, the sum of the weights: the score is their mean over the queries.");
                Expect(!Near(got, Mean(weights, start, length, keyOffset: 1, firstQuery: start + length, lastQuery: start + 2 * length - 2))
                       && !Near(got, Mean(weights, start, length, keyOffset: 1, firstQuery: start + length + 1, lastQuery: start + 2 * length - 1)),
                    $"for {what} it returns {got:0.0000}, the mean over only L − 1 queries of the second copy: all L of its tokens have a previous occurrence.");
                Expect(!Near(got, Mean(weights, start, length, keyOffset: 1, firstQuery: length - 1, lastQuery: start + 2 * length - 1)),
                    $"for {what} it returns {got:0.0000}, which also averages queries outside the second copy: only tokens of the second copy have occurred before.");
                int t = (int)weights.shape[0];
                Expect(!Near(got, Mean(weights, start, length, keyOffset: 1, firstQuery: t - length, lastQuery: t - 1))
                       && !Near(got, Mean(weights, start, length, keyOffset: 1, firstQuery: start + length, lastQuery: t - 1, divideBy: length))
                       && !Near(got, Mean(weights, start, length, keyOffset: 1, firstQuery: start + length, lastQuery: t - 1)),
                    $"for {what} it returns {got:0.0000}: it uses the end of the sequence, not start. Here tokens follow the second copy, so " +
                    "the queries to average are found from start and length alone.");
                Expect(false, $"for {what} it returns {got:0.0000}, but the score is {want:0.0000}.");
            }
        });

    /// <summary>
    /// Exercise 2: the labels of supervised fine-tuning for one sequence whose first promptLength tokens are the prompt
    /// (the reference is <see cref="ResponseMasking.Labels"/>: label t = tokens[t + 1] for response tokens, −100 otherwise).
    /// </summary>
    public static Verdict ResponseLabels(Func<long[], int, long[]> yours) => Check("your ResponseLabels",
        "go back to the section \"Masking the prompt out of the loss\": which token does input position t predict, which of those tokens " +
        "belong to the response, and what label makes the loss skip a position?",
        () =>
        {
            var tokenizer = InstructionTasks.Tokenizer;
            var cases = new List<(string What, long[] Tokens, int Prompt)>();
            foreach (var (task, input) in new[] { ("reverse", "abcd"), ("upper", "cats"), ("sort", "dbec") })
            {
                var pair = InstructionTasks.Make(task, input);
                cases.Add(($"\"{pair.Prompt}\" + \"{pair.Response}\"", tokenizer.Encode(pair.Text), pair.Prompt.Length));
            }
            cases.Add(("a 6-token sequence whose prompt is its first token", new long[] { 3, 1, 4, 1, 5, 9 }, 1));
            cases.Add(("a 5-token sequence whose response is its last token", new long[] { 2, 7, 1, 8, 2 }, 4));
            foreach (var (what, tokens, prompt) in cases)
            {
                var want = ResponseMasking.Labels(tokens, prompt);
                var got = Forbidding(["ResponseMasking.Labels"], () => yours((long[])tokens.Clone(), prompt));
                Expect(got is not null, $"for {what} it returns null.");
                Expect(got!.Length != tokens.Length,
                    $"for {what} it returns {got.Length} labels, one per token: the inputs are the sequence without its last token (nothing follows it), so there are {tokens.Length - 1}.");
                Expect(got.Length == want.Length, $"for {what} it returns {got.Length} labels; expected {want.Length}.");
                if (got.SequenceEqual(want)) continue;
                Expect(!got.All(l => l == ResponseMasking.IgnoreIndex), $"for {what} every label is −100: the placeholder is still there, or the response is masked too.");
                Expect(!got.SequenceEqual(tokens[1..]),
                    $"for {what} every next token is a label: nothing is masked, so the model would also be trained to write the prompt.");
                Expect(!got.Contains(0) || want.Contains(0) || got.Contains(ResponseMasking.IgnoreIndex),
                    $"for {what} the skipped positions hold 0, which is a real token id: the loss only skips the label −100 (ResponseMasking.IgnoreIndex).");
                Expect(!got.SequenceEqual(Expected(tokens, prompt, (t, p) => t + 1 < p)),
                    $"for {what} the prompt's next tokens are labels and the response's are −100: the mask is the wrong way round.");
                Expect(!got.SequenceEqual(Expected(tokens, prompt, (t, p) => t >= p)),
                    $"for {what} the first response token is not a label: the last prompt position (the '=' or the prompt's last token) is where the model must predict it.");
                Expect(!got.SequenceEqual(Expected(tokens, prompt, (t, p) => t + 2 >= p)),
                    $"for {what} the last prompt token is a label too: position t is scored on token t + 1, and only response tokens may be targets.");
                Expect(!got.SequenceEqual(Expected(tokens, prompt, (t, p) => t >= p, shift: 0)),
                    $"for {what} each label is the token at its own position: a language model's label is the NEXT token, t + 1.");
                Expect(false, $"for {what} it returns [{string.Join(", ", got)}], expected [{string.Join(", ", want)}].");
            }
        });

    static long[] Expected(long[] tokens, int prompt, Func<int, int, bool> isTarget, int shift = 1) =>
        Enumerable.Range(0, tokens.Length - 1).Select(t => isTarget(t, prompt) ? tokens[t + shift] : ResponseMasking.IgnoreIndex).ToArray();

    static double Reference(Tensor weights, int start, int length) => Mean(weights, start, length, keyOffset: 1);

    /// <summary>Mean of weights[i, i − length + keyOffset] over queries i in [firstQuery, lastQuery] (default: the second copy), divided by divideBy when given instead of the count.</summary>
    static double Mean(Tensor weights, int start, int length, int keyOffset, int? firstQuery = null, int? lastQuery = null, int? divideBy = null)
    {
        int from = firstQuery ?? start + length, to = lastQuery ?? start + 2 * length - 1;
        var w = weights.to_type(ScalarType.Float64);
        double sum = 0;
        int n = 0;
        for (int i = from; i <= to; i++)
        {
            int key = i - length + keyOffset;
            sum += key >= 0 && key < w.shape[1] ? w[i, key].item<double>() : 0;
            n++;
        }
        return sum / (divideBy ?? n);
    }

    static bool Near(double a, double b) => Math.Abs(a - b) <= 1e-5;

    static Tensor RandomCausal(int t, Generator generator)
    {
        var scores = randn(new long[] { t, t }, generator: generator) * 2;
        return scores.masked_fill(ones(t, t, dtype: ScalarType.Bool).tril().logical_not(), double.NegativeInfinity).softmax(-1);
    }

    /// <summary>Every query of the second copy puts weight 0.9 on key i − length + offset and spreads the rest evenly over the others it may see; other queries attend evenly.</summary>
    static Tensor Pattern(int t, int start, int length, int offset)
    {
        var w = new float[t * t];
        for (int i = 0; i < t; i++)
        {
            int target = i >= start + length && i <= start + 2 * length - 1 ? i - length + offset : -1;
            for (int j = 0; j <= i; j++)
                w[i * t + j] = target < 0 ? 1f / (i + 1) : j == target ? 0.9f : 0.1f / i;
        }
        return tensor(w, new long[] { t, t });
    }
}
