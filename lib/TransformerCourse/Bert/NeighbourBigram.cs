using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>Accuracy of three context baselines at the [MASK] positions: the left neighbour's most frequent successor,
/// the right neighbour's most frequent predecessor, and the token that best fits both (product of the two counts).</summary>
public sealed record NeighbourScores(long Tokens, double Left, double Right, double Both);

/// <summary>
/// Bigram lookups that read one visible neighbour, counted on the training ids: the simplest way to use context at a
/// [MASK] position. A model that beats the unigram guess but not these has learned little from its neighbours yet.
/// </summary>
public static class NeighbourBigram
{
    /// <summary>
    /// Counts adjacent pairs in <paramref name="trainIds"/> (N, L) and scores the [MASK] positions (input id
    /// <paramref name="maskId"/> with a label) of each (inputs, labels) batch: each lookup reads the ids the input shows
    /// next to the blank, as a model would. "Both" picks argmax_c (n(left, c) + 0.1)(n(c, right) + 0.1); the 0.1 keeps a
    /// pair never seen from zeroing the other side's evidence.
    /// </summary>
    public static NeighbourScores Score(Tensor trainIds, IEnumerable<(Tensor Inputs, Tensor Labels)> batches, int maskId, int vocabSize)
    {
        Guard.RankExactly(trainIds, 2, nameof(trainIds), "examples, length");
        Guard.Positive(vocabSize, nameof(vocabSize));
        if (maskId < 0 || maskId >= vocabSize)
            throw new ArgumentOutOfRangeException(nameof(maskId), $"maskId {maskId} is not an id of a {vocabSize}-token vocabulary.");
        var pairs = new double[vocabSize, vocabSize];          // pairs[a, b] = how often b follows a
        long length = trainIds.shape[1];
        var ids = trainIds.cpu().data<long>().ToArray();
        for (long start = 0; start < ids.Length; start += length)
            for (long i = start + 1; i < start + length; i++) pairs[ids[i - 1], ids[i]]++;
        int[] successor = Best(vocabSize, (a, c) => pairs[a, c]), predecessor = Best(vocabSize, (b, c) => pairs[c, b]);

        long tokens = 0, left = 0, right = 0, both = 0;
        foreach (var (inputs, labels) in batches)
        {
            Guard.RankExactly(inputs, 2, nameof(inputs), "batch, length");
            long width = inputs.shape[1];
            var shown = inputs.cpu().data<long>().ToArray();
            var truth = labels.cpu().data<long>().ToArray();
            for (long k = 0; k < shown.Length; k++)
            {
                if (truth[k] == MlmMasking.IgnoreIndex || shown[k] != maskId) continue;
                tokens++;
                long position = k % width;
                long before = position > 0 ? shown[k - 1] : -1, after = position + 1 < width ? shown[k + 1] : -1;
                if (before >= 0 && successor[before] == truth[k]) left++;
                if (after >= 0 && predecessor[after] == truth[k]) right++;
                if (before >= 0 && after >= 0)
                {
                    int best = 0;
                    double bestScore = double.NegativeInfinity;
                    for (int c = 0; c < vocabSize; c++)
                    {
                        double score = (pairs[before, c] + 0.1) * (pairs[c, after] + 0.1);
                        if (score > bestScore) (best, bestScore) = (c, score);
                    }
                    if (best == truth[k]) both++;
                }
            }
        }
        double Share(long hits) => tokens == 0 ? 0 : (double)hits / tokens;
        return new NeighbourScores(tokens, Share(left), Share(right), Share(both));
    }

    /// <summary>Scores the [MASK] positions of BERT batches against the training examples' bigram counts.</summary>
    public static NeighbourScores Score(BertExamples train, IReadOnlyList<BertBatch> batches, int maskId) =>
        Score(train.Ids, batches.Select(b => (b.InputIds, b.MlmLabels)), maskId, train.Tokenizer.VocabSize);

    // For each row a, the column c with the largest count (the lowest id on ties).
    static int[] Best(int vocabSize, Func<int, int, double> count)
    {
        var best = new int[vocabSize];
        for (int a = 0; a < vocabSize; a++)
            for (int c = 1; c < vocabSize; c++)
                if (count(a, c) > count(a, best[a])) best[a] = c;
        return best;
    }
}
