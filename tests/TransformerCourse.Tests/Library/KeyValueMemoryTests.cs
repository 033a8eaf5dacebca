using TransformerCourse.Data;
using TransformerCourse.Models;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class KeyValueMemoryTests : TorchTest
{
    [Fact]
    public void Most_frequent_value_counts_and_breaks_ties_by_first_stored()
    {
        var task = new KeyValueRetrievalTask(pairs: 3, numKeys: 4, numValues: 3, seed: 0);
        // keys 0..3, values 4..6: [k0 v5 k1 v6 k2 v5 q], [k0 v4 k1 v6 k3 v5 q] (all distinct: the first stored wins)
        var source = tensor(new long[] { 0, 5, 1, 6, 2, 5, 1, 0, 4, 1, 6, 3, 5, 3 }).reshape(2, 7);
        Assert.Equal(new long[] { 5, 4 }, task.MostFrequentValue(source).reshape(-1).data<long>().ToArray());
        Assert.Equal(new[] { true, false }, task.MostFrequentValueIsUnique(source).data<bool>().ToArray());
        var e = Assert.Throws<ArgumentException>(() => task.MostFrequentValue(zeros(2, 5, dtype: ScalarType.Int64)));
        Assert.Contains("length 5", e.Message);
    }

    [Fact]
    public void The_content_free_baseline_is_well_above_chance()
    {
        // 4 values drawn from 8: the most frequent one is right about 41% of the time, against 1/8 for a blind guess.
        var task = new KeyValueRetrievalTask(pairs: 4, numKeys: 16, numValues: 8, seed: 3);
        using var batch = task.Sample(4000);
        double baseline = task.MostFrequentValue(batch.Source).eq(batch.Target).to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(baseline, 0.38, 0.45);
    }

    [Fact]
    public void Memory_model_shapes_and_bad_input()
    {
        var model = new KeyValueMemoryModel(24, 4, 16, QuerySource.Question);
        using var batch = new KeyValueRetrievalTask(4, 16, 8, seed: 1).Sample(5);
        using var result = model.ForwardWithWeights(batch.Source);
        Assert.Equal(new long[] { 5, 1, 24 }, result.Output.shape);
        Assert.Equal(new long[] { 5, 1, 4 }, result.Weights.shape);
        var e = Assert.Throws<ArgumentException>(() => model.forward(zeros(5, 7, dtype: ScalarType.Int64)));
        Assert.Contains("length 7", e.Message);
    }

    [Fact]
    public void Only_the_query_from_the_question_learns_to_retrieve()
    {
        double Train(QuerySource query)
        {
            manual_seed(0);
            var model = new KeyValueMemoryModel(24, 4, 32, query);
            SequenceTrainer.Fit(model, new KeyValueRetrievalTask(4, 16, 8, seed: 1), steps: 300, batchSize: 64, learningRate: 5e-3);
            return SequenceTrainer.ExactMatch(model, new KeyValueRetrievalTask(4, 16, 8, seed: 2));
        }
        Assert.True(Train(QuerySource.Question) > 0.9);
        Assert.InRange(Train(QuerySource.LearnedSlot), 0.0, 0.5);
    }
}
