using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>The keys and values one attention layer has seen so far, (B, key/value heads, T, head width) each.</summary>
public sealed class LayerKvCache : IDisposable
{
    private Tensor? keys, values;

    public long Length => keys?.shape[2] ?? 0;

    /// <summary>Adds the new positions and returns all keys and values so far.</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor newKeys, Tensor newValues)
    {
        var k = keys is null ? newKeys.detach().clone() : cat([keys, newKeys.detach()], 2);
        var v = values is null ? newValues.detach().clone() : cat([values, newValues.detach()], 2);
        keys?.Dispose();
        values?.Dispose();
        keys = k.DetachFromDisposeScope();
        values = v.DetachFromDisposeScope();
        return (keys.alias(), values.alias());
    }

    /// <summary>Bytes held: what the cache costs in memory.</summary>
    public long Bytes => (keys?.NumberOfElements ?? 0) * (keys?.ElementSize ?? 0) * 2;

    /// <summary>Bytes of the cached keys alone, read from the tensor: element size × number of elements.</summary>
    public long KeyBytes => (keys?.NumberOfElements ?? 0) * (keys?.ElementSize ?? 0);

    /// <summary>Bytes of the cached values alone, read from the tensor: element size × number of elements.</summary>
    public long ValueBytes => (values?.NumberOfElements ?? 0) * (values?.ElementSize ?? 0);

    /// <summary>Shape of the cached keys, e.g. [1, 4, 37, 32]; empty before the first append.</summary>
    public long[] KeyShape => keys?.shape ?? [];

    public void Dispose()
    {
        keys?.Dispose();
        values?.Dispose();
        keys = values = null;
    }
}

/// <summary>One <see cref="LayerKvCache"/> per block.</summary>
public sealed class KvCache(int layers) : IDisposable
{
    public IReadOnlyList<LayerKvCache> Layers { get; } = Enumerable.Range(0, layers).Select(_ => new LayerKvCache()).ToList();

    public long Length => Layers[0].Length;

    public long Bytes => Layers.Sum(l => l.Bytes);

    public void Dispose()
    {
        foreach (var l in Layers) l.Dispose();
    }
}
