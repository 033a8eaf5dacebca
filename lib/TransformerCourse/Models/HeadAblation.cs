using TorchSharp;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Models;

/// <summary>
/// Switches one head of a <see cref="MultiHeadAttention"/> off for an experiment: the d_k columns of W^O that read
/// that head's output are set to zero, so the head still attends but contributes nothing to the output.
/// Dispose puts the weights back. <c>using (HeadAblation.Remove(mha, 2)) { … }</c>
/// </summary>
public sealed class HeadAblation : IDisposable
{
    private readonly MultiHeadAttention attention;
    private readonly Tensor saved;
    private readonly TensorIndex columns;
    private bool disposed;

    HeadAblation(MultiHeadAttention attention, int head)
    {
        (this.attention, Head) = (attention, head);
        columns = TensorIndex.Slice(head * attention.HeadWidth, (head + 1) * attention.HeadWidth);
        using var noGrad = no_grad();
        var weight = attention.OutputProjection.weight!;
        saved = weight[.., columns].clone();
        weight[.., columns] = zeros_like(saved);
    }

    /// <summary>The head that is switched off.</summary>
    public int Head { get; }

    /// <summary>Zeroes head <paramref name="head"/>'s columns of W^O until the returned object is disposed.</summary>
    public static HeadAblation Remove(MultiHeadAttention attention, int head)
    {
        ArgumentNullException.ThrowIfNull(attention);
        if (head < 0 || head >= attention.Heads)
            throw new ArgumentException($"head must be in 0..{attention.Heads - 1} (the attention has {attention.Heads} heads) but is {head}.", nameof(head));
        return new HeadAblation(attention, head);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        using (no_grad()) attention.OutputProjection.weight![.., columns] = saved;
        saved.Dispose();
    }
}
