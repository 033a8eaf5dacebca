using TorchSharp;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>Held-out scores of a BERT on fixed masked batches.</summary>
/// <param name="MlmAccuracy">Share of masked positions where the top prediction is the original token.</param>
/// <param name="MaskedTokens">How many masked positions were scored.</param>
public sealed record BertScores(double MlmLoss, double MlmAccuracy, double NspLoss, double NspAccuracy, long MaskedTokens, long Pairs);

/// <summary>The losses of BERT's pretraining (Devlin et al., 2019): MLM cross-entropy over the masked positions only,
/// plus NSP cross-entropy on the [CLS] classifier; the total is their sum.</summary>
public static class BertPretraining
{
    /// <summary>Mean cross-entropy over the positions whose label is not <see cref="MlmMasking.IgnoreIndex"/>.
    /// logits (B, L, V), labels (B, L). A batch with no masked position gives 0 (not NaN).</summary>
    public static Tensor MlmLoss(Tensor logits, Tensor labels)
    {
        Guard.RankExactly(logits, 3, nameof(logits), "batch, length, vocabulary");
        if (!labels.shape.SequenceEqual(logits.shape[..2]))
            throw new ArgumentException($"labels has shape {Guard.Shape(labels)} but logits is {Guard.Shape(logits)}; labels must be (batch, length).", nameof(labels));
        using var scope = NewDisposeScope();
        var flatLogits = logits.reshape(-1, logits.shape[2]);
        var flatLabels = labels.reshape(-1);
        var summed = nn.functional.cross_entropy(flatLogits, flatLabels, ignore_index: MlmMasking.IgnoreIndex, reduction: nn.Reduction.Sum);
        var count = flatLabels.ne(MlmMasking.IgnoreIndex).sum().clamp_min(1).to_type(summed.dtype);
        return (summed / count).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-entropy of NSP logits (B, 2) against labels (B) (1 = IsNext).</summary>
    public static Tensor NspLoss(Tensor logits, Tensor labels) => nn.functional.cross_entropy(logits, labels);

    /// <summary>The pretraining loss for <see cref="TrainingLoop{TBatch}"/>: MLM + <paramref name="nspWeight"/> · NSP,
    /// with metrics mlm_loss, nsp_loss, mlm_accuracy and nsp_accuracy. nspWeight 0 drops NSP (RoBERTa).</summary>
    public static BatchLoss Loss(BertModel model, BertBatch batch, double nspWeight = 1.0)
    {
        var hidden = model.Encoder.forward(batch.InputIds, batch.Segments, batch.AttentionMask);
        // As in BERT's code, the MLM head runs only at the masked positions (the others have no label).
        var (logits, labels) = AtMaskedPositions(model, hidden, batch.MlmLabels);
        var mlm = logits.shape[0] == 0 ? zeros(1, device: hidden.device).sum() : nn.functional.cross_entropy(logits, labels);
        var nspLogits = model.NspLogits(hidden);
        var nsp = NspLoss(nspLogits, batch.NspLabels);
        var total = nspWeight == 0 ? mlm : mlm + nspWeight * nsp;
        using var noGrad = no_grad();
        var mlmAccuracy = logits.shape[0] == 0 ? zeros(1).sum() : logits.argmax(-1).eq(labels).to_type(ScalarType.Float32).mean();
        var nspAccuracy = nspLogits.argmax(-1).eq(batch.NspLabels).to_type(ScalarType.Float32).mean();
        return new BatchLoss(total, new Dictionary<string, Tensor>
        {
            ["mlm_loss"] = mlm.detach(), ["nsp_loss"] = nsp.detach(), ["mlm_accuracy"] = mlmAccuracy, ["nsp_accuracy"] = nspAccuracy,
        });
    }

    /// <summary>MLM logits (N, V) and labels (N) of the N masked positions only.</summary>
    public static (Tensor Logits, Tensor Labels) AtMaskedPositions(BertModel model, Tensor hidden, Tensor mlmLabels)
    {
        var flatLabels = mlmLabels.reshape(-1);
        var where = flatLabels.ne(MlmMasking.IgnoreIndex).nonzero().squeeze(1);
        var picked = hidden.reshape(-1, hidden.shape[^1]).index_select(0, where);
        return (model.MlmLogits(picked), flatLabels.index_select(0, where));
    }

    /// <summary>Scores <paramref name="model"/> on fixed batches (eval mode, no gradients); the mode is restored after.</summary>
    public static BertScores Evaluate(BertModel model, IReadOnlyList<BertBatch> batches)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            double mlmLoss = 0, nspLoss = 0;
            long hits = 0, masked = 0, nspHits = 0, pairs = 0;
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                var hidden = model.Encoder.forward(batch.InputIds, batch.Segments, batch.AttentionMask);
                var (logits, labels) = AtMaskedPositions(model, hidden, batch.MlmLabels);
                long n = labels.shape[0];
                if (n > 0)
                {
                    mlmLoss += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
                    hits += logits.argmax(-1).eq(labels).sum().item<long>();
                }
                masked += n;
                var nspLogits = model.NspLogits(hidden);
                nspLoss += NspLoss(nspLogits, batch.NspLabels).item<float>() * batch.Size;
                nspHits += nspLogits.argmax(-1).eq(batch.NspLabels).sum().item<long>();
                pairs += batch.Size;
            }
            return new BertScores(mlmLoss / Math.Max(1, masked), (double)hits / Math.Max(1, masked), nspLoss / Math.Max(1, pairs),
                (double)nspHits / Math.Max(1, pairs), masked, pairs);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// The unigram baseline for MLM: always predict the token most frequent among the maskable positions of
    /// <paramref name="train"/>; its accuracy on the masked positions of <paramref name="batches"/>. Returns the token too.
    /// </summary>
    public static (int Token, double Accuracy) UnigramBaseline(BertExamples train, IReadOnlyList<BertBatch> batches)
    {
        using var scope = NewDisposeScope();
        var counts = train.Ids.masked_select(train.Maskable).bincount(null, train.Tokenizer.VocabSize);
        int best = (int)counts.argmax().item<long>();
        long hits = 0, masked = 0;
        foreach (var b in batches)
        {
            var chosen = b.MlmLabels.ne(MlmMasking.IgnoreIndex);
            masked += chosen.sum().item<long>();
            hits += b.MlmLabels.eq(best).sum().item<long>();
        }
        return (best, (double)hits / Math.Max(1, masked));
    }
}
