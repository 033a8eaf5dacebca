namespace TransformerCourse.FineTuning;

/// <summary>One labelled passage: its text, its class and the speech it comes from.</summary>
public sealed record LabelledText(string Text, int Label, int SpeechIndex);

/// <summary>
/// The sequence-classification task of lesson 14: <b>who says this passage?</b> Every passage is
/// <see cref="LinesPerExample"/> consecutive lines of one speech by one of a few <see cref="Speakers"/>. The split is by
/// speech, so two lines of the same speech never sit on both sides: every fifth speech of each speaker (the 5th, 10th …)
/// is held out for testing. Nothing is random, so the task is the same on every machine (see datasets/speaker-lines.md).
/// </summary>
public sealed class SpeakerTask
{
    public IReadOnlyList<string> Speakers { get; }
    public int LinesPerExample { get; }
    public IReadOnlyList<LabelledText> Train { get; }
    public IReadOnlyList<LabelledText> Test { get; }

    private SpeakerTask(IReadOnlyList<string> speakers, int linesPerExample, List<LabelledText> train, List<LabelledText> test)
    {
        Speakers = speakers;
        LinesPerExample = linesPerExample;
        Train = train;
        Test = test;
    }

    /// <param name="text">The whole of Tiny Shakespeare.</param>
    /// <param name="speakers">Speaker headings (as written, e.g. "ROMEO"); class k is speakers[k].</param>
    /// <param name="linesPerExample">Consecutive lines joined (with a space) into one passage; a speech's last passage may be shorter.</param>
    public static SpeakerTask Build(string text, IReadOnlyList<string> speakers, int linesPerExample = 2)
    {
        ArgumentNullException.ThrowIfNull(speakers);
        if (speakers.Count < 2) throw new ArgumentException($"speakers needs at least 2 names but has {speakers.Count}.", nameof(speakers));
        if (speakers.Distinct().Count() != speakers.Count) throw new ArgumentException("speakers contains a name twice.", nameof(speakers));
        Guard.Positive(linesPerExample, nameof(linesPerExample));
        var speeches = ShakespeareSpeeches.Parse(text);
        var train = new List<LabelledText>();
        var test = new List<LabelledText>();
        for (int label = 0; label < speakers.Count; label++)
        {
            var own = speeches.Where(s => s.Speaker == speakers[label]).ToList();
            if (own.Count < 5) throw new ArgumentException($"speaker '{speakers[label]}' has {own.Count} speeches; at least 5 are needed.", nameof(speakers));
            for (int k = 0; k < own.Count; k++)
            {
                var target = (k + 1) % 5 == 0 ? test : train;
                var lines = own[k].Lines;
                for (int start = 0; start < lines.Length; start += linesPerExample)
                    target.Add(new LabelledText(string.Join(" ", lines.Skip(start).Take(linesPerExample).Select(l => l.Trim())), label, own[k].Index));
            }
        }
        return new SpeakerTask(speakers, linesPerExample, train, test);
    }

    /// <summary>Examples per class in a list of labelled passages.</summary>
    public int[] ClassCounts(IEnumerable<LabelledText> examples)
    {
        var counts = new int[Speakers.Count];
        foreach (var e in examples) counts[e.Label]++;
        return counts;
    }
}
