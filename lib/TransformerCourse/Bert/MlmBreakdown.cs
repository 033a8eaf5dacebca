using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>What happened to a chosen (scored) position under BERT's 80/10/10 rule.</summary>
public enum Corruption
{
    /// <summary>The input shows [MASK]: the model must infer the token from its context.</summary>
    Mask,
    /// <summary>The input shows another ordinary token (drawn at random).</summary>
    Random,
    /// <summary>The input shows the original token itself (kept, or a random draw that hit it): a model can copy it.</summary>
    Unchanged,
}

/// <summary>Held-out MLM scores of the positions of one corruption type, beside the two baselines.</summary>
/// <param name="Tokens">Scored positions of this type.</param>
/// <param name="Accuracy">Share where the model's top guess is the original token.</param>
/// <param name="Top5">Share where the original token is among the model's 5 best guesses.</param>
/// <param name="Loss">Mean cross-entropy of the model at these positions.</param>
/// <param name="Unigram">Accuracy of always guessing the most frequent training token.</param>
/// <param name="CopyOrUnigram">Accuracy of guessing the visible input token, or the unigram token where the input is [MASK].</param>
public sealed record CorruptionScore(Corruption Kind, long Tokens, double Accuracy, double Top5, double Loss, double Unigram, double CopyOrUnigram);

/// <summary>
/// Held-out MLM accuracy split by corruption type. Overall accuracy mixes three different tasks: at [MASK] the model
/// must use the context, at an unchanged position it can copy the token it sees (10 % of the scored positions), at a
/// random one it must notice the token is wrong. Only the [MASK] share measures what the cloze task is meant to teach.
/// </summary>
public static class MlmBreakdown
{
    /// <summary>Scores <paramref name="model"/> on the chosen positions of <paramref name="batches"/>, split by
    /// corruption type, with the unigram token <paramref name="unigramToken"/> (see
    /// <see cref="BertPretraining.UnigramBaseline"/>) as the baselines' guess. Eval mode and no gradients; the mode is restored.</summary>
    public static List<CorruptionScore> Score(BertModel model, IReadOnlyList<BertBatch> batches, int maskId, int unigramToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (batches.Count == 0) throw new ArgumentException("batches is empty.", nameof(batches));
        bool wasTraining = model.training;
        model.eval();
        var tokens = new long[3];
        var hits = new long[3];
        var top5 = new long[3];
        var loss = new double[3];
        var unigram = new long[3];
        var copy = new long[3];
        try
        {
            using var noGrad = no_grad();
            foreach (var b in batches)
            {
                using var scope = NewDisposeScope();
                var hidden = model.Encoder.forward(b.InputIds, b.Segments, b.AttentionMask);
                var (logits, labels) = BertPretraining.AtMaskedPositions(model, hidden, b.MlmLabels);
                var at = b.MlmLabels.reshape(-1).ne(MlmMasking.IgnoreIndex).nonzero().squeeze(1);
                var shown = b.InputIds.reshape(-1).index_select(0, at);
                var kind = KindOf(shown, labels, maskId);
                var top = logits.topk(5).indexes;
                var hit = top[.., 0].eq(labels);
                var inTop5 = top.eq(labels.unsqueeze(1)).any(1);
                var ce = nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.None);
                var copyGuess = TorchSharp.torch.where(shown.eq(maskId), full_like(shown, unigramToken), shown);
                for (int k = 0; k < 3; k++)
                {
                    var of = kind.eq(k);
                    tokens[k] += of.sum().item<long>();
                    hits[k] += hit.logical_and(of).sum().item<long>();
                    top5[k] += inTop5.logical_and(of).sum().item<long>();
                    loss[k] += ce.masked_select(of).sum().item<float>();
                    unigram[k] += labels.eq(unigramToken).logical_and(of).sum().item<long>();
                    copy[k] += copyGuess.eq(labels).logical_and(of).sum().item<long>();
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return Enumerable.Range(0, 3).Select(k =>
        {
            double n = Math.Max(1, tokens[k]);
            return new CorruptionScore((Corruption)k, tokens[k], hits[k] / n, top5[k] / n, loss[k] / n, unigram[k] / n, copy[k] / n);
        }).ToList();
    }

    /// <summary>Corruption type (0 = Mask, 1 = Random, 2 = Unchanged) of each scored position from what the input shows and the label.</summary>
    public static Tensor KindOf(Tensor shown, Tensor labels, int maskId) =>
        TorchSharp.torch.where(shown.eq(maskId), zeros_like(shown), TorchSharp.torch.where(shown.eq(labels), full_like(shown, 2), ones_like(shown)));

    /// <summary>All scored positions together: token-weighted accuracy, top-5, loss and baselines.</summary>
    public static CorruptionScore Overall(IReadOnlyList<CorruptionScore> parts)
    {
        double n = Math.Max(1, parts.Sum(p => p.Tokens));
        double W(Func<CorruptionScore, double> f) => parts.Sum(p => f(p) * p.Tokens) / n;
        return new CorruptionScore(Corruption.Mask, parts.Sum(p => p.Tokens), W(p => p.Accuracy), W(p => p.Top5), W(p => p.Loss), W(p => p.Unigram), W(p => p.CopyOrUnigram));
    }

    /// <summary>
    /// Cross-entropy (nats) of the unigram model — the training frequencies of the maskable tokens, add-one smoothed —
    /// on the scored positions of <paramref name="batches"/>: the loss a model that ignores the context can reach.
    /// </summary>
    public static double UnigramCrossEntropy(BertExamples train, IReadOnlyList<BertBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(train);
        using var scope = NewDisposeScope();
        var counts = train.Ids.masked_select(train.Maskable).bincount(null, train.Tokenizer.VocabSize).to_type(ScalarType.Float64) + 1.0;
        var logP = (counts / counts.sum()).log();
        double sum = 0;
        long n = 0;
        foreach (var b in batches)
        {
            var labels = b.MlmLabels.masked_select(b.MlmLabels.ne(MlmMasking.IgnoreIndex)).cpu();
            sum -= logP.index_select(0, labels).sum().item<double>();
            n += labels.shape[0];
        }
        return sum / Math.Max(1, n);
    }
}
