using TorchSharp;
using TransformerCourse.Bert;
using TransformerCourse.Tokenization;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>
/// Sentence vectors from a pretrained BERT: encode each line alone ([CLS] line [SEP]), run the encoder, and average the
/// final hidden states over the line's real tokens (<see cref="MeanPooling.Pool"/>), as Sentence-BERT does (Reimers and
/// Gurevych, 2019). Without Sentence-BERT's fine-tuning on sentence pairs these vectors reflect the model's pretraining.
/// </summary>
public static class SentenceEmbeddings
{
    /// <summary>(N, d) mean-pooled vectors of <paramref name="lines"/>, in batches of <paramref name="batchSize"/>.</summary>
    public static Tensor Encode(BertModel model, BytePairEncoder tokenizer, IReadOnlyList<string> lines, int batchSize = 256)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var device = model.Encoder.TokenTable.device;
            var parts = new List<Tensor>();
            for (int start = 0; start < lines.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = LineBatch.Encode(tokenizer, lines.Skip(start).Take(batchSize).ToList(), model.Config.MaxLength, device);
                var hidden = model.Encoder.forward(batch.Ids, batch.Segments, batch.AttentionMask);
                parts.Add(MeanPooling.Pool(hidden, batch.AttentionMask).MoveToOuterDisposeScope());
            }
            var all = cat(parts, 0);
            foreach (var p in parts) p.Dispose();
            return all;
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Jaccard overlap of the two lines' sets of tokens: |A ∩ B| / |A ∪ B| (0 for two empty lines).</summary>
    public static double TokenOverlap(BytePairEncoder tokenizer, string a, string b)
    {
        var x = tokenizer.Encode(a).ToHashSet();
        var y = tokenizer.Encode(b).ToHashSet();
        int union = x.Union(y).Count();
        return union == 0 ? 0 : (double)x.Intersect(y).Count() / union;
    }
}
