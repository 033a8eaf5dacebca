using TransformerCourse.Tokenization;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>One candidate for a blank: the token and the model's probability for it.</summary>
public sealed record Candidate(string Token, double Probability);

/// <summary>Asks a pretrained BERT to fill a blank: the MLM head's distribution at the [MASK] position.</summary>
public static class FillInTheBlank
{
    /// <summary>
    /// <paramref name="line"/> with <paramref name="word"/> (a whole word that is one token with its leading space,
    /// or the first word of the line) replaced by [MASK]; throws when the word is missing or takes several tokens.
    /// </summary>
    public static string Blank(BytePairEncoder tokenizer, string line, string word)
    {
        int at = line.IndexOf(" " + word, StringComparison.Ordinal);
        string token = at >= 0 ? " " + word : word;
        if (at < 0 && !line.StartsWith(word, StringComparison.Ordinal))
            throw new ArgumentException($"'{word}' does not occur in '{line}'.", nameof(word));
        if (tokenizer.Encode(token).Length != 1)
            throw new ArgumentException($"'{token}' takes {tokenizer.Encode(token).Length} tokens; pick a word that is a single token.", nameof(word));
        return at >= 0 ? line[..at] + "[MASK]" + line[(at + token.Length)..] : "[MASK]" + line[word.Length..];
    }

    /// <summary>The top <paramref name="k"/> tokens for the single [MASK] in <paramref name="first"/>, read as segment A of
    /// [CLS] A [SEP] B [SEP] with <paramref name="second"/> as B.</summary>
    public static List<Candidate> Predict(BertModel model, BytePairEncoder tokenizer, string first, string second, int k = 5)
    {
        var pair = SentencePairData.Encode(tokenizer, first, second, model.Config.MaxLength);
        int maskId = tokenizer.SpecialId("[MASK]");
        int at = Array.IndexOf(pair.Ids, maskId);
        if (at < 0 || Array.LastIndexOf(pair.Ids, maskId) != at)
            throw new ArgumentException($"'{first}' must contain exactly one [MASK] (within the first {model.Config.MaxLength} tokens).", nameof(first));
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var device = model.Encoder.TokenTable.device;
            var ids = tensor(pair.Ids.Select(i => (long)i).ToArray(), device: device).unsqueeze(0);
            var segments = tensor(pair.Segments.Select(i => (long)i).ToArray(), device: device).unsqueeze(0);
            var mask = tensor(pair.AttentionMask, device: device).unsqueeze(0);
            var probabilities = nn.functional.softmax(model.forward(ids, segments, mask).MlmLogits[0, at], -1);
            var (values, indices) = probabilities.topk(k);
            var p = values.cpu().data<float>().ToArray();
            var id = indices.cpu().data<long>().ToArray();
            return Enumerable.Range(0, k).Select(i => new Candidate(tokenizer.Show((int)id[i]), p[i])).ToList();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Share of masked positions of <paramref name="batches"/> whose original token is among the model's top <paramref name="k"/>.</summary>
    public static double TopKAccuracy(BertModel model, IReadOnlyList<BertBatch> batches, int k)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            long hits = 0, total = 0;
            foreach (var b in batches)
            {
                using var scope = NewDisposeScope();
                var hidden = model.Encoder.forward(b.InputIds, b.Segments, b.AttentionMask);
                var (logits, labels) = BertPretraining.AtMaskedPositions(model, hidden, b.MlmLabels);
                hits += logits.topk(k).indexes.eq(labels.unsqueeze(1)).any(1).sum().item<long>();
                total += labels.shape[0];
            }
            return (double)hits / Math.Max(1, total);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
