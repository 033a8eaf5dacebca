using TransformerCourse.Bert;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 13 (BERT Pretraining).</summary>
public static class Lesson13
{
    /// <summary>The label of a position the MLM loss ignores.</summary>
    public const long Ignore = MlmMasking.IgnoreIndex;

    /// <summary>
    /// Exercise 1: BERT's masking rule on one sequence. <c>yours(ids, maskable, maskId, ordinaryTokens, random)</c>
    /// returns (inputs, labels): each maskable position is chosen with probability 0.15; a chosen position becomes
    /// maskId with probability 0.8, a random ordinary token (0..ordinaryTokens−1) with probability 0.1, and stays
    /// unchanged otherwise; labels hold the original id at chosen positions and −100 elsewhere. Judged on the
    /// statistics of 3,000 sequences (tolerances of about four standard deviations).
    /// </summary>
    public static Verdict MaskTokens(Func<long[], bool[], long, int, Random, (long[] Inputs, long[] Labels)> yours) => Check("your MaskTokens",
        "go back to the section \"Masked language modelling\": which positions may be chosen, what happens to a chosen one, and what the label of every position is.",
        () =>
        {
            const int Vocab = 500, Length = 40, Sequences = 3000;
            const long MaskId = 503, Cls = 501, Sep = 502, Pad = 500;
            var data = new Random(13);
            long chosen = 0, maskable = 0, masked = 0, kept = 0, replaced = 0;
            for (int s = 0; s < Sequences; s++)
            {
                int real = data.Next(8, Length + 1), split = data.Next(2, real - 2);
                var ids = new long[Length];
                for (int i = 0; i < Length; i++)
                    ids[i] = i == 0 ? Cls : i == split || i == real - 1 ? Sep : i >= real ? Pad : data.Next(Vocab);
                var canMask = ids.Select(id => id < Vocab).ToArray();
                var idsCopy = ids.ToArray();
                var (inputs, labels) = Forbidding(["MlmMasking.Apply"], () => yours(idsCopy, canMask.ToArray(), MaskId, Vocab, new Random(1000 + s)));
                if (s == 0)
                {
                    var again = yours(ids.ToArray(), canMask.ToArray(), MaskId, Vocab, new Random(1000 + s));
                    Expect(again.Inputs is not null && inputs is not null && again.Inputs.SequenceEqual(inputs) && again.Labels.SequenceEqual(labels),
                        "two calls with the same seed of the supplied random give different results: every draw must come from the random you are given, not from a new Random.");
                }
                Expect(inputs is not null && labels is not null, "it returns null; return the masked inputs and the labels.");
                Expect(inputs!.Length == Length && labels!.Length == Length,
                    $"for a sequence of {Length} ids it returns {inputs.Length} inputs and {labels!.Length} labels; both must have one entry per position.");
                for (int i = 0; i < Length; i++)
                {
                    bool isChosen = labels[i] != Ignore;
                    if (!canMask[i])
                    {
                        string name = ids[i] == Cls ? "[CLS]" : ids[i] == Sep ? "[SEP]" : "[PAD]";
                        Expect(!isChosen && inputs[i] == ids[i], $"it chose the {name} at position {i}: special tokens and padding are never masked (use maskable).");
                        continue;
                    }
                    maskable++;
                    if (!isChosen)
                    {
                        Expect(inputs[i] == ids[i], $"position {i} has label −100 (not chosen) but its input changed from {ids[i]} to {inputs[i]}: only chosen positions are corrupted, and every corrupted position needs its label.");
                        continue;
                    }
                    Expect(labels[i] != MaskId, $"the label at position {i} is the [MASK] id: the label is the original token, the one the model must recover.");
                    Expect(labels[i] == ids[i], $"the label at position {i} is {labels[i]} but the original token there is {ids[i]}: the label is the original token.");
                    chosen++;
                    if (inputs[i] == MaskId) masked++;
                    else if (inputs[i] == ids[i]) kept++;
                    else
                    {
                        Expect(inputs[i] >= 0 && inputs[i] < Vocab, $"a random replacement is {inputs[i]}, not an ordinary token: draw it from 0..{Vocab - 1} (never a special token).");
                        replaced++;
                    }
                }
            }
            Expect(chosen > 0, "no position is ever chosen: every label is still −100.");
            double rate = (double)chosen / maskable, maskShare = (double)masked / chosen, randomShare = (double)replaced / chosen, keepShare = (double)kept / chosen;
            string shares = $"(of the chosen positions: {maskShare:P1} [MASK], {randomShare:P1} random, {keepShare:P1} unchanged)";
            Expect(Math.Abs(rate - 0.15) < 0.006, $"{rate:P1} of the maskable positions are chosen, not 15 % {shares}.");
            Expect(maskShare < 0.99, $"every chosen position became [MASK] {shares}: BERT keeps 10 % unchanged and replaces 10 % by a random token, so the model cannot rely on seeing [MASK].");
            Expect(randomShare > 0.005 || keepShare < 0.15, $"no chosen position gets a random token {shares}.");
            Expect(!(Math.Abs(randomShare - 0.02) < 0.01 && Math.Abs(keepShare - 0.18) < 0.02),
                $"the shares are {maskShare:P1} / {randomShare:P1} / {keepShare:P1}: the 10 % for random tokens looks like it was applied to the 20 % left after [MASK], not to all chosen positions. The three shares are all fractions of the chosen positions.");
            Expect(Math.Abs(maskShare - 0.8) < 0.025 && Math.Abs(randomShare - 0.1) < 0.02 && Math.Abs(keepShare - 0.1) < 0.02,
                $"the shares are not 80/10/10 {shares}.");
        });

    /// <summary>
    /// Exercise 2: BERT's tied MLM output layer. <c>yours(hidden (N, d), tokenTable (V, d), bias (V))</c> returns
    /// the logits (N, V) scoring every vocabulary token at every position, reusing the token embedding table.
    /// </summary>
    public static Verdict TiedOutput(Func<Tensor, Tensor, Tensor, Tensor> yours) => Check("your TiedOutput",
        "go back to the section \"The mini-BERT\": the output layer reuses the embedding table, so think about which of its two sizes must meet the width of the hidden states, and what the gradient must reach.",
        () =>
        {
            foreach (var (n, d, v) in new[] { (3, 4, 7), (5, 8, 11), (1, 6, 6) })
            {
                var generator = new Generator((ulong)(n * 100 + v));
                var hidden = randn([n, d], generator: generator);
                var table = randn([v, d], generator: generator).requires_grad_();
                var bias = randn([v], generator: generator).requires_grad_();
                var logits = Forbidding(["BertModel.MlmLogits"], () => yours(hidden, table, bias));
                Expect(logits is not null, "it returns null.");
                Expect(logits!.shape.SequenceEqual(new long[] { n, v }),
                    $"for hidden [{n}, {d}] and a table [{v}, {d}] it returns shape {Guard.Shape(logits)}; the logits need one score per vocabulary token at each position: [{n}, {v}].");
                using var noGrad = no_grad();
                Expect(logits.abs().sum().item<float>() > 0, "it returns all zeros: the placeholder is still there.");
                var want = hidden.matmul(table.t()) + bias;
                if (Same(logits, want, 1e-4)) continue;
                Expect(!Same(logits, hidden.matmul(table.t()), 1e-4), "the bias is missing: the output layer adds one learned bias per vocabulary token.");
                Expect(!Same(logits, nn.functional.softmax(want, -1), 1e-4), "it returns probabilities (a softmax): return the logits; cross-entropy applies the softmax itself.");
                Expect(false, $"for hidden [{n}, {d}] the logits differ from the scores of the hidden states against every row of the embedding table plus the bias.");
            }
            var h = randn(2, 4);
            var e = randn(9, 4).requires_grad_();
            var b = zeros(9).requires_grad_();
            var out2 = yours(h, e, b);
            out2.sum().backward();
            Expect(e.grad is not null && e.grad.abs().sum().item<float>() > 0,
                "no gradient reaches the embedding table: it was copied or detached, so the output layer is not tied to it (training would update two different matrices).");
            Expect(b.grad is not null && b.grad.abs().sum().item<float>() > 0,
                "no gradient reaches the bias: it was detached or copied, so training could never learn it.");
        });
}
