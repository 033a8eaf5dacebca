using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse;

/// <summary>Argument checks that name the argument and the sizes involved.</summary>
public static class Guard
{
    public static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    public static void Rank(Tensor t, int minRank, string name, string meaning)
    {
        if (t.dim() < minRank)
            throw new ArgumentException($"{name} must have at least {minRank} dimensions ({meaning}) but has shape {Shape(t)}.", name);
    }

    public static void RankExactly(Tensor t, int rank, string name, string meaning)
    {
        if (t.dim() != rank)
            throw new ArgumentException($"{name} must have {rank} dimensions ({meaning}) but has shape {Shape(t)}.", name);
    }

    public static void Positive(double value, string name)
    {
        if (!(value > 0)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive but was {value}.");
    }

    public static void Positive(long value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive but was {value}.");
    }

    /// <summary>True when <paramref name="shape"/> broadcasts to <paramref name="target"/> (trailing-aligned).</summary>
    public static bool BroadcastsTo(long[] shape, long[] target)
    {
        if (shape.Length > target.Length) return false;
        for (int i = 1; i <= shape.Length; i++)
        {
            long s = shape[^i], t = target[^i];
            if (s != 1 && s != t) return false;
        }
        return true;
    }
}
