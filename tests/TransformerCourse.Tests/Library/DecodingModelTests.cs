using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>Lesson 17's cached model: trained when missing or unusable, loaded when valid, the same weights on a retrain.</summary>
public class DecodingModelTests : TorchTest
{
    static readonly TrainingRecipe Tiny = DecodingModel.Recipe with { Name = "tiny", Layers = 1, Heads = 2, Width = 16, ContextLength = 16, BatchSize = 4, Steps = 6, WarmupSteps = 2, EvalInterval = 6, EvalBatches = 1 };

    static float[] Weights(GptModel model) => model.parameters().SelectMany(p => p.detach().cpu().reshape(-1).data<float>().ToArray()).ToArray();

    [Fact]
    public async Task Trains_when_missing_loads_when_valid_retrains_when_broken_or_stale_and_is_deterministic()
    {
        var data = await TinyShakespeare.LoadAsync(TestData.Mirror());
        var a = Directory.CreateTempSubdirectory("l17a").FullName;
        var b = Directory.CreateTempSubdirectory("l17b").FullName;
        try
        {
            var first = DecodingModel.LoadOrTrain(a, data, CPU, Tiny);
            Assert.True(first.Trained);
            Assert.Equal(Tiny.Steps, first.Info.Step);
            Assert.False(first.Model.training);
            var again = DecodingModel.LoadOrTrain(a, data, CPU, Tiny);
            Assert.False(again.Trained);
            Assert.Equal(Weights(first.Model), Weights(again.Model));
            var elsewhere = DecodingModel.LoadOrTrain(b, data, CPU, Tiny);                // a retrain gives the same weights
            Assert.True(elsewhere.Trained);
            Assert.Equal(Weights(first.Model), Weights(elsewhere.Model));

            var path = Path.Combine(a, GptTrainer.CheckpointFile);
            File.WriteAllBytes(path, File.ReadAllBytes(path)[..100]);                       // truncated
            var repaired = DecodingModel.LoadOrTrain(a, data, CPU, Tiny);
            Assert.True(repaired.Trained);
            Assert.Contains("trained it here", repaired.Note);
            Assert.Equal(Weights(first.Model), Weights(repaired.Model));
            var stale = DecodingModel.LoadOrTrain(a, data, CPU, Tiny with { Steps = 7, EvalInterval = 7 });   // another recipe
            Assert.True(stale.Trained);
            Assert.Contains("another recipe", stale.Note);
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }
}
