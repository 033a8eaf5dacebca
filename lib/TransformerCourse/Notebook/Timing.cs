using System.Diagnostics;

namespace TransformerCourse.Notebook;

/// <summary>Wall-clock measurements for the lessons' "measure, don't claim" cells.</summary>
public static class Timing
{
    /// <summary>Median milliseconds over <paramref name="repeats"/> runs after one warm-up run.</summary>
    public static double MedianMilliseconds(Action action, int repeats = 5)
    {
        Guard.Positive(repeats, nameof(repeats));
        action();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}
