namespace TransformerCourse.Generation;

/// <summary>Diversity and repetition of generated text, counted in character n-grams.</summary>
public static class TextMetrics
{
    /// <summary>
    /// distinct-n (Li et al., 2016): distinct n-grams divided by all n-grams, pooled over the samples (so identical
    /// samples lower it as much as repetition inside one sample does). 0 when there are no n-grams.
    /// </summary>
    public static double DistinctN(IEnumerable<string> samples, int n)
    {
        Guard.Positive(n, nameof(n));
        var grams = samples.SelectMany(s => Grams(s, n)).ToList();
        return grams.Count == 0 ? 0 : grams.Distinct().Count() / (double)grams.Count;
    }

    /// <summary>
    /// Repetition rate of one sample: the share of its n-grams that already occurred earlier in the same sample
    /// (a sample stuck in a loop approaches 1). 0 when there are no n-grams.
    /// </summary>
    public static double RepetitionRate(string sample, int n)
    {
        Guard.Positive(n, nameof(n));
        var seen = new HashSet<string>();
        int total = 0, repeats = 0;
        foreach (var g in Grams(sample, n))
        {
            total++;
            if (!seen.Add(g)) repeats++;
        }
        return total == 0 ? 0 : repeats / (double)total;
    }

    static IEnumerable<string> Grams(string s, int n)
    {
        for (int i = 0; i + n <= s.Length; i++) yield return s.Substring(i, n);
    }
}
