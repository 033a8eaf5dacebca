using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Vision;

/// <summary>
/// Attention rollout (Abnar and Zuidema, 2020): how much each input token reaches each output position through
/// all layers. Per layer, average the heads, add the identity for the residual connection, renormalise each row to
/// sum to 1; then multiply the layers' matrices, the last layer on the left: R = Â_L ⋯ Â_2 Â_1.
/// </summary>
public static class AttentionRollout
{
    /// <param name="layers">Each layer's attention (B, H, L, L) or (H, L, L), first layer first.</param>
    /// <returns>(B, L, L) (or (L, L)); row i says how much of each input token position i holds after the last layer.</returns>
    public static Tensor Compute(IReadOnlyList<Tensor> layers)
    {
        RebuiltRoutines.Enter("AttentionRollout.Compute");
        if (layers.Count == 0) throw new ArgumentException("layers must hold at least one attention tensor.", nameof(layers));
        var shape = layers[0].shape;
        for (int i = 0; i < layers.Count; i++)
        {
            var a = layers[i];
            if (a.dim() is not (3 or 4) || a.shape[^1] != a.shape[^2] || !a.shape.SequenceEqual(shape))
                throw new ArgumentException($"layer {i} has shape {Guard.Shape(a)}; every layer must be (B, H, L, L) or (H, L, L) " +
                    $"with the shape of layer 0, {Guard.Shape(layers[0])}.", nameof(layers));
        }
        using var scope = NewDisposeScope();
        long length = shape[^1];
        var identity = eye(length, dtype: layers[0].dtype, device: layers[0].device);
        Tensor? rollout = null;
        foreach (var a in layers)
        {
            var mixed = a.mean([-3]) + identity;
            mixed = mixed / mixed.sum(-1, keepdim: true);
            rollout = rollout is null ? mixed : mixed.matmul(rollout);
        }
        return rollout!.MoveToOuterDisposeScope();
    }
}
