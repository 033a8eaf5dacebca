using static TorchSharp.torch;

namespace TransformerCourse.Data;

/// <summary>
/// A labelled set of small grey images: <see cref="Images"/> is (N, H, W) float32 in [0, 1], <see cref="Labels"/> is (N) int64.
/// <see cref="Source"/> says where the pixels came from (and what was verified), for the lesson to print.
/// </summary>
public sealed record ImageSet(Tensor Images, Tensor Labels, IReadOnlyList<string> ClassNames, string Source)
{
    public long Count => Images.shape[0];
    public long Height => Images.shape[1];
    public long Width => Images.shape[2];

    /// <summary>A deterministic shuffle split into a training and a held-out part (the held-out share of each class is the same).</summary>
    public (ImageSet Train, ImageSet HeldOut) Split(double heldOutShare, int seed)
    {
        if (heldOutShare is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(heldOutShare), heldOutShare, "The held-out share must lie strictly between 0 and 1.");
        var rng = new Random(seed);
        var labels = Labels.data<long>().ToArray();
        var train = new List<long>();
        var held = new List<long>();
        foreach (var group in Enumerable.Range(0, labels.Length).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            var members = group.Select(i => (long)i).OrderBy(_ => rng.Next()).ToList();
            int cut = (int)Math.Round(members.Count * heldOutShare);
            held.AddRange(members.Take(cut));
            train.AddRange(members.Skip(cut));
        }
        train = train.OrderBy(_ => rng.Next()).ToList();
        held = held.OrderBy(_ => rng.Next()).ToList();
        return (Take(train), Take(held));
    }

    ImageSet Take(List<long> rows)
    {
        using var index = tensor(rows.ToArray());
        return this with { Images = Images.index_select(0, index), Labels = Labels.index_select(0, index) };
    }
}
