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
    /// <param name="threads">TorchSharp threads while timing (restored afterwards); null keeps the current setting. One thread
    /// keeps a comparison fair on a shared machine, where another program stalls a multi-threaded product far more than a
    /// single-threaded loop.</param>
    public static double[] MedianMilliseconds(IReadOnlyList<Action> actions, int rounds = 7, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count == 0) throw new ArgumentException("Need at least one action to time.", nameof(actions));
        Guard.Positive(rounds, nameof(rounds));
        if (threads is { } t) Guard.Positive(t, nameof(threads));
        int before = TorchSharp.torch.get_num_threads();
        if (threads is { } wanted) TorchSharp.torch.set_num_threads(wanted);
        try { return Measure(actions, rounds); }
        finally { if (threads is not null) TorchSharp.torch.set_num_threads(before); }
    }

    static double[] Measure(IReadOnlyList<Action> actions, int rounds)
    {
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
