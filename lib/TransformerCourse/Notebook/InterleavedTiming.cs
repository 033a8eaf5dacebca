using System.Diagnostics;

namespace TransformerCourse.Notebook;

/// <summary>
/// Wall-clock medians that a busy machine disturbs less than back-to-back repeats: each round runs every
/// action once, so a burst of load from another program lands on one round of every action rather than on
/// all the repeats of one action.
/// </summary>
public static class InterleavedTiming
{
    /// <summary>Median milliseconds of each action over <paramref name="rounds"/> interleaved rounds, after one warm-up round.</summary>
    public static double[] MedianMilliseconds(IReadOnlyList<Action> actions, int rounds = 7)
    {
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count == 0) throw new ArgumentException("Need at least one action to time.", nameof(actions));
        Guard.Positive(rounds, nameof(rounds));
        foreach (var action in actions) action();
        var times = new double[actions.Count][];
        for (int a = 0; a < actions.Count; a++) times[a] = new double[rounds];
        for (int r = 0; r < rounds; r++)
            for (int a = 0; a < actions.Count; a++)
            {
                var watch = Stopwatch.StartNew();
                actions[a]();
                times[a][r] = watch.Elapsed.TotalMilliseconds;
            }
        return times.Select(t => { Array.Sort(t); return t[rounds / 2]; }).ToArray();
    }
}
