using TorchSharp;
using TransformerCourse.Data;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class PermutationTaskTests : TorchTest
{
    [Fact]
    public void The_reversal_permutation_gives_the_reversal_task()
    {
        var task = new PermutationTask(10, [5, 4, 3, 2, 1, 0], seed: 3);
        using var batch = task.Sample(8);
        using var reference = new ReversalTask(10, 6, seed: 3).Sample(8);
        Assert.True(batch.Source.eq(reference.Source).all().item<bool>());
        Assert.True(batch.Target.eq(reference.Target).all().item<bool>());
    }

    [Fact]
    public void Rotation_copies_from_shifted_positions()
    {
        var task = PermutationTask.Rotation(7, 5, shift: 2, seed: 1);
        Assert.Equal(new[] { 2, 3, 4, 0, 1 }, task.SourceIndex);
        Assert.Equal(new[] { 4, 0, 1, 2, 3 }, PermutationTask.Rotation(7, 5, shift: -1, seed: 1).SourceIndex);
        using var batch = task.Sample(4);
        Assert.True(batch.Target.eq(batch.Source.roll(-2, 1)).all().item<bool>());
        Assert.Equal(5, task.TargetLength);
        Assert.Equal(7, task.VocabSize);
    }

    [Fact]
    public void A_non_permutation_is_rejected_with_its_contents()
    {
        var e = Assert.Throws<ArgumentException>(() => new PermutationTask(5, [0, 0, 2], seed: 0));
        Assert.Equal("sourceIndex", e.ParamName);
        Assert.Contains("[0, 0, 2]", e.Message);
        Assert.Throws<ArgumentException>(() => new PermutationTask(5, [], seed: 0));
    }
}
