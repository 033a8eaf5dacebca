namespace TransformerCourse.FineTuning;

/// <summary>
/// A label budget: keep a fraction of the labelled training examples, the same fraction of every class (stratified),
/// chosen by a seeded shuffle. For one seed the budgets are nested: the examples kept at 1 % are among those kept at 10 %,
/// because each class's shuffled order is the same and a budget takes its first items.
/// </summary>
public static class LabelBudget
{
    /// <summary>Indices (ascending) of the examples kept: round(fraction · n_c) of each class c, at least one.</summary>
    public static int[] Subsample(IReadOnlyList<int> labels, double fraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentException($"fraction must be in (0, 1] but is {fraction}.", nameof(fraction));
        if (labels.Count == 0) throw new ArgumentException("labels is empty.", nameof(labels));
        if (labels.Any(l => l < 0)) throw new ArgumentException("labels must be class ids >= 0.", nameof(labels));
        var kept = new List<int>();
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            var order = group.ToArray();
            new Random(unchecked(seed * 1_000_003 + group.Key) & int.MaxValue).Shuffle(order);
            int take = Math.Max(1, (int)Math.Round(fraction * order.Length, MidpointRounding.AwayFromZero));
            kept.AddRange(order.Take(take));
        }
        kept.Sort();
        return [.. kept];
    }
}
