using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using TransformerCourse.Vision;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 22's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson22ExerciseTests : TorchTest
{
    static Tensor ReferencePatchify(Tensor images, int p)
    {
        long b = images.shape[0], rows = images.shape[1] / p, cols = images.shape[2] / p;
        return images.reshape(b, rows, p, cols, p).permute(0, 1, 3, 2, 4).reshape(b, rows * cols, p * p);
    }

    [Fact]
    public void Patchify_reference_passes() => Assert.True(Lesson22.Patchify(ReferencePatchify).Passed);

    [Fact]
    public void Patchify_placeholder_fails_saying_only_zeros()
    {
        var verdict = Lesson22.Patchify((x, p) => zeros(x.shape[0], x.shape[1] / p * (x.shape[2] / p), p * p));
        Assert.False(verdict.Passed);
        Assert.Contains("only zeros", verdict.Feedback);
    }

    [Fact]
    public void Reshape_without_permute_is_named()
    {
        var verdict = Lesson22.Patchify((x, p) => x.reshape(x.shape[0], -1, p * p));
        Assert.False(verdict.Passed);
        Assert.Contains("A reshape alone mixes patches", verdict.Feedback);
    }

    [Fact]
    public void Column_by_column_patch_order_is_named()
    {
        var verdict = Lesson22.Patchify((x, p) =>
        {
            long b = x.shape[0], rows = x.shape[1] / p, cols = x.shape[2] / p;
            return x.reshape(b, rows, p, cols, p).permute(0, 3, 1, 2, 4).reshape(b, rows * cols, p * p);
        });
        Assert.False(verdict.Passed);
        Assert.Contains("numbered column by column", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_patchify_is_refused()
    {
        var verdict = Lesson22.Patchify(Patches.Patchify);
        Assert.False(verdict.Passed);
        Assert.Contains("Patches.Patchify", verdict.Feedback);
    }

    static Tensor ReferenceClip(Tensor logits)
    {
        var targets = arange(logits.shape[0]);
        return (nn.functional.cross_entropy(logits, targets) + nn.functional.cross_entropy(logits.T, targets)) / 2;
    }

    [Fact]
    public void Clip_reference_passes() => Assert.True(Lesson22.ClipLoss(ReferenceClip).Passed);

    [Fact]
    public void Clip_placeholder_fails_saying_zero()
    {
        var verdict = Lesson22.ClipLoss(_ => tensor(0f));
        Assert.False(verdict.Passed);
        Assert.Contains("returns 0", verdict.Feedback);
    }

    [Fact]
    public void One_directional_clip_loss_is_named()
    {
        var verdict = Lesson22.ClipLoss(l => nn.functional.cross_entropy(l, arange(l.shape[0])));
        Assert.False(verdict.Passed);
        Assert.Contains("only the image→caption direction", verdict.Feedback);
    }

    [Fact]
    public void Summing_the_two_directions_is_named()
    {
        var verdict = Lesson22.ClipLoss(l => ReferenceClip(l) * 2);
        Assert.False(verdict.Passed);
        Assert.Contains("sum of the two directions", verdict.Feedback);
    }

    static Tensor ReferenceRollout(List<Tensor> layers)
    {
        var r = eye(layers[0].shape[^1]);
        foreach (var a in layers)
        {
            var m = a.mean([0]) + eye(a.shape[^1]);
            r = (m / m.sum(-1, keepdim: true)).matmul(r);
        }
        return r;
    }

    [Fact]
    public void Rollout_reference_passes() => Assert.True(Lesson22.Rollout(ReferenceRollout).Passed);

    [Fact]
    public void Rollout_placeholder_fails_saying_identity()
    {
        var verdict = Lesson22.Rollout(layers => eye(layers[0].shape[^1]));
        Assert.False(verdict.Passed);
        Assert.Contains("returns the identity", verdict.Feedback);
    }

    [Fact]
    public void Forgetting_the_identity_is_named()
    {
        var verdict = Lesson22.Rollout(layers =>
        {
            var r = eye(layers[0].shape[^1]);
            foreach (var a in layers) r = a.mean([0]).matmul(r);
            return r;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("leaves out the residual connection", verdict.Feedback);
    }

    [Fact]
    public void Multiplying_in_the_wrong_order_is_named()
    {
        var verdict = Lesson22.Rollout(layers =>
        {
            var r = eye(layers[0].shape[^1]);
            foreach (var a in layers)
            {
                var m = a.mean([0]) + eye(a.shape[^1]);
                r = r.matmul(m / m.sum(-1, keepdim: true));
            }
            return r;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("wrong order", verdict.Feedback);
    }

    [Fact]
    public void Skipping_the_renormalisation_is_named()
    {
        var verdict = Lesson22.Rollout(layers =>
        {
            var r = eye(layers[0].shape[^1]);
            foreach (var a in layers) r = (a.mean([0]) + eye(a.shape[^1])).matmul(r);
            return r;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("do not sum to 1", verdict.Feedback);
    }
}
