using TransformerCourse.Data;
using TransformerCourse.Vision;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class VitTests : TorchTest
{
    [Fact]
    public void Patchify_with_unfold_matches_the_loops_and_round_trips_to_the_image()
    {
        var images = rand(3, 28, 28);
        var patches = Patches.Patchify(images, 7);
        Assert.Equal([3, 16, 49], patches.shape);
        Assert.True(patches.eq(Patches.PatchifyByLoops(images, 7)).all().item<bool>());
        Assert.True(Patches.Unpatchify(patches, 7, 28, 28).squeeze(1).eq(images).all().item<bool>());
        var colour = rand(2, 3, 8, 12);
        var p = Patches.Patchify(colour, 4);
        Assert.Equal([2, 6, 48], p.shape);
        Assert.True(p.eq(Patches.PatchifyByLoops(colour, 4)).all().item<bool>());
        Assert.True(Patches.Unpatchify(p, 4, 8, 12, channels: 3).eq(colour).all().item<bool>());
    }

    [Fact]
    public void Patches_are_numbered_row_by_row_and_keep_their_pixels_together()
    {
        var image = arange(16f).reshape(1, 4, 4);
        var p = Patches.Patchify(image, 2);
        Assert.Equal(new float[] { 0, 1, 4, 5 }, p[0, 0].data<float>().ToArray());
        Assert.Equal(new float[] { 2, 3, 6, 7 }, p[0, 1].data<float>().ToArray());
        Assert.Equal(new float[] { 8, 9, 12, 13 }, p[0, 2].data<float>().ToArray());
    }

    [Fact]
    public void Patchify_refuses_sizes_that_do_not_tile()
    {
        var e = Assert.Throws<ArgumentException>(() => Patches.Patchify(zeros(1, 28, 28), 5));
        Assert.Contains("28", e.Message);
        Assert.Equal("patch", e.ParamName);
        Assert.Throws<ArgumentException>(() => Patches.Patchify(zeros(28, 28), 7));
    }

    [Fact]
    public void Patch_embedding_puts_cls_first_and_adds_row_plus_column_positions()
    {
        var embed = new PatchEmbedding(28, 7, 16);
        var tokens = embed.forward(rand(2, 28, 28));
        Assert.Equal([2, 17, 16], tokens.shape);
        var pos = embed.PatchPositions();
        // Patch 5 is at row 1, column 1; patches 4 and 1 share its row and its column.
        var expected = pos[4] + pos[1] - pos[0];
        Assert.True(allclose(pos[5], expected, atol: 1e-6));
        Assert.Equal(2 * 4 * 16 + 16 + 49 * 16 + 16, embed.parameters().Sum(p => p.numel()));
        Assert.Throws<ArgumentException>(() => embed.forward(rand(2, 32, 32)));
    }

    [Fact]
    public void The_vit_gives_logits_and_one_attention_map_per_layer_whose_rows_sum_to_one()
    {
        var vit = new VisionTransformer(new VitConfig(Layers: 2, Width: 32, Heads: 4, FeedForwardWidth: 64));
        var (logits, attention) = vit.ForwardWithAttention(rand(3, 28, 28));
        Assert.Equal([3, 10], logits.shape);
        Assert.Equal(2, attention.Count);
        Assert.Equal([3, 4, 17, 17], attention[0].shape);
        Assert.True(allclose(attention[1].sum(-1), ones(3, 4, 17), atol: 1e-5));
    }

    [Fact]
    public void Rollout_on_a_hand_built_case()
    {
        // One layer, two heads over 2 tokens: mean [[0.5, 0.5], [0, 1]], + I = [[1.5, 0.5], [0, 2]], rows renormalised.
        var heads = tensor(new float[] { 1, 0, 0, 1, 0, 1, 0, 1 }).reshape(2, 2, 2);
        var one = AttentionRollout.Compute([heads]);
        Assert.True(allclose(one, tensor(new float[] { 0.75f, 0.25f, 0, 1 }).reshape(2, 2), atol: 1e-6));
        // Two layers multiply, the later layer on the left.
        var second = tensor(new float[] { 0, 1, 1, 0, 0, 1, 1, 0 }).reshape(2, 2, 2);
        var two = AttentionRollout.Compute([heads, second]);
        var a2 = tensor(new float[] { 0.5f, 0.5f, 0.5f, 0.5f }).reshape(2, 2);
        Assert.True(allclose(two, a2.matmul(one), atol: 1e-6));
        Assert.True(allclose(two.sum(-1), ones(2), atol: 1e-6));
        Assert.Throws<ArgumentException>(() => AttentionRollout.Compute([heads, ones(2, 3, 3)]));
    }

    [Fact]
    public void Confusion_matrix_counts_true_rows_against_predicted_columns()
    {
        var m = ImageClassifier.ConfusionMatrix(tensor(new long[] { 0, 0, 1, 2 }), tensor(new long[] { 0, 1, 1, 0 }), 3);
        Assert.Equal(new long[] { 1, 1, 0, 0, 1, 0, 1, 0, 0 }, m.data<long>().ToArray());
        Assert.Equal(0.5, ImageClassifier.Accuracy(tensor(new long[] { 0, 1, 1, 0 }), tensor(new long[] { 0, 0, 1, 2 })));
    }

    [Fact]
    public void A_short_run_through_the_training_loop_learns_shapes_better_than_chance()
    {
        var (train, held) = GeneratedShapes.Create(40, seed: 1).Split(0.25, seed: 0);
        var model = new LogisticRegression(28 * 28, 6);
        var loop = ImageClassifier.Train(model, train, new ImageTrainingOptions(Steps: 60, BatchSize: 32, LearningRate: 1e-2));
        Assert.Equal(60, loop.History.Count);
        Assert.True(loop.History[^1].Loss < loop.History[0].Loss);
        Assert.True(ImageClassifier.Accuracy(ImageClassifier.Predict(model, held.Images), held.Labels) > 0.5);
    }
}
