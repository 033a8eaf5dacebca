using TransformerCourse.Data;
using TransformerCourse.Vision;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class ClipTests : TorchTest
{
    [Fact]
    public void The_loss_of_equal_logits_is_ln_B()
    {
        foreach (int b in new[] { 2, 5, 10 })
            Assert.Equal(Math.Log(b), ClipLoss.Symmetric(full(b, b, 3f)).item<float>(), 5);
    }

    [Fact]
    public void The_loss_averages_both_directions_on_a_hand_made_matrix()
    {
        var logits = tensor(new float[] { 2, 0, 1, 0 }).reshape(2, 2);
        // Rows: image 0 picks caption 0 with softmax(2, 0), image 1 picks caption 1 with softmax(1, 0).
        double rows = (-Math.Log(Math.Exp(2) / (Math.Exp(2) + 1)) - Math.Log(1 / (Math.Exp(1) + 1))) / 2;
        // Columns: caption 0 picks image 0 from (2, 1), caption 1 picks image 1 from (0, 0).
        double columns = (-Math.Log(Math.Exp(2) / (Math.Exp(2) + Math.Exp(1))) - Math.Log(0.5)) / 2;
        Assert.Equal((rows + columns) / 2, ClipLoss.Symmetric(logits).item<float>(), 5);
        Assert.Equal(ClipLoss.Symmetric(logits).item<float>(), ClipLoss.Symmetric(logits.T).item<float>(), 6);
        Assert.NotEqual(rows, (rows + columns) / 2, 3);
        Assert.Throws<ArgumentException>(() => ClipLoss.Symmetric(zeros(2, 3)));
    }

    [Fact]
    public void Logits_are_cosines_times_the_scale_clamped_at_100()
    {
        var i = tensor(new float[] { 3, 0, 0, 2 }).reshape(2, 2);
        var t = tensor(new float[] { 1, 1, 0, 5 }).reshape(2, 2);
        var logits = ClipLoss.Logits(i, t, tensor(MathF.Log(10)));
        Assert.Equal(10 / Math.Sqrt(2), logits[0, 0].item<float>(), 4);
        Assert.Equal(10, logits[1, 1].item<float>(), 4);
        var big = ClipLoss.Logits(i, t, tensor(10f));
        Assert.Equal(100, big[1, 1].item<float>(), 3);
    }

    [Fact]
    public void Captions_spell_digits_as_words_and_encode_with_padding()
    {
        var text = new ToyCaptions(Enumerable.Range(0, 10).Select(d => d.ToString()).ToArray());
        Assert.Equal("a photo of a seven", text.Caption(7));
        var ids = text.Encode([text.Caption(7), text.Caption(3, 1)]);
        Assert.Equal([2, text.MaxLength], ids.shape);
        Assert.Equal(0, ids[1, 3].item<long>());
        Assert.Throws<ArgumentException>(() => text.Encode(["a photo of a cat"]));
        var shapes = new ToyCaptions(GeneratedShapes.ClassNames);
        Assert.Equal("a handwritten horizontal bar", shapes.Caption(4, 1));
    }

    [Fact]
    public void A_toy_clip_step_runs_through_the_loop_and_zero_shot_returns_one_class_per_image()
    {
        var set = GeneratedShapes.Create(10, seed: 2);
        var text = new ToyCaptions(set.ClassNames);
        var clip = new ToyClip(new VitConfig(Width: 32, Layers: 1, Heads: 2, FeedForwardWidth: 64), text, embedWidth: 16);
        Assert.Equal(1 / 0.07, clip.LogitScale, 3);
        var loop = clip.Train(set, text, steps: 5);
        Assert.Equal(5, loop.History.Count);
        Assert.True(loop.History.All(s => double.IsFinite(s.Loss)));
        var predicted = clip.ZeroShot(set.Images[..7], text);
        Assert.Equal([7], predicted.shape);
        Assert.True(predicted.max().item<long>() < 6);
    }
}
