using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Data;

/// <summary>The sub-tasks of <see cref="SyntheticTranslation"/>, each selected by its prefix token.</summary>
public enum TranslationTask
{
    /// <summary>"&lt;to-digits&gt; three hundred forty two" → "342" (0–999).</summary>
    WordsToDigits,
    /// <summary>"&lt;to-words&gt; 342" → "three hundred forty two" (0–999).</summary>
    DigitsToWords,
    /// <summary>"&lt;date&gt; 2024-03-05" → "5 march 2024".</summary>
    DateToText,
}

/// <summary>One example: the source text starts with its task's prefix token, as in T5.</summary>
public sealed record TranslationExample(TranslationTask Task, string Source, string Target);

/// <summary>
/// A seeded synthetic translation task framed text-to-text as T5 does (Raffel et al., 2020): one model, one
/// vocabulary, and a prefix token that says which of three tasks to do — number words → digits, digits → number
/// words, ISO date → "day month year". The split is deterministic and by meaning: a held-out number (or date)
/// never appears in any training example, in either direction, so held-out exact match measures generalisation.
/// </summary>
public sealed class SyntheticTranslation
{
    private static readonly string[] Ones =
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
    private static readonly string[] Tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    private static readonly string[] Months =
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

    /// <summary>The prefix token of each task.</summary>
    public static string Prefix(TranslationTask task) => task switch
    {
        TranslationTask.WordsToDigits => "<to-digits>",
        TranslationTask.DigitsToWords => "<to-words>",
        TranslationTask.DateToText => "<date>",
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, "unknown task"),
    };

    private readonly Dictionary<TranslationTask, List<TranslationExample>> train = [];

    /// <param name="seed">Fixes the split (and nothing else: batches are drawn with the Random you pass).</param>
    /// <param name="heldOutFraction">Share of numbers 0–999 and of dates kept out of training.</param>
    /// <param name="tasks">Which tasks to include; all three by default.</param>
    /// <param name="firstYear">Dates run from 1 January of firstYear …</param>
    /// <param name="lastYear">… to 31 December of lastYear.</param>
    public SyntheticTranslation(int seed = 0, double heldOutFraction = 0.1, IReadOnlyCollection<TranslationTask>? tasks = null,
        int firstYear = 1950, int lastYear = 2049)
    {
        if (heldOutFraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(heldOutFraction), heldOutFraction, "heldOutFraction must be in (0, 1).");
        if (firstYear < 1000 || lastYear > 9999 || lastYear < firstYear)
            throw new ArgumentException($"years must satisfy 1000 ≤ firstYear ({firstYear}) ≤ lastYear ({lastYear}) ≤ 9999.", nameof(lastYear));
        Tasks = (tasks ?? Enum.GetValues<TranslationTask>()).Distinct().Order().ToArray();
        if (Tasks.Count == 0) throw new ArgumentException("tasks must name at least one task.", nameof(tasks));
        Vocabulary = new TranslationVocabulary(
            Tasks.Select(Prefix).Concat(Ones).Concat(Tens.Where(t => t.Length > 0)).Append("hundred").Concat(Months),
            "0123456789-");
        var random = new Random(seed);
        var heldOut = new List<TranslationExample>();

        var numbers = Enumerable.Range(0, 1000).ToArray();
        random.Shuffle(numbers);
        var heldOutNumbers = numbers.Take((int)Math.Round(heldOutFraction * numbers.Length)).ToHashSet();
        var start = new DateOnly(firstYear, 1, 1);
        var dates = Enumerable.Range(0, new DateOnly(lastYear, 12, 31).DayNumber - start.DayNumber + 1).Select(start.AddDays).ToArray();
        random.Shuffle(dates);
        var heldOutDates = dates.Take((int)Math.Round(heldOutFraction * dates.Length)).ToHashSet();

        foreach (var task in Tasks)
        {
            var examples = task == TranslationTask.DateToText
                ? dates.Order().Select(d => (Example(task, d), heldOutDates.Contains(d)))
                : Enumerable.Range(0, 1000).Select(n => (Example(task, n), heldOutNumbers.Contains(n)));
            train[task] = [];
            foreach (var (example, isHeldOut) in examples) (isHeldOut ? heldOut : train[task]).Add(example);
        }
        Train = [.. Tasks.SelectMany(t => train[t])];
        HeldOut = heldOut;
        MaxSourceLength = Train.Concat(HeldOut).Max(e => Vocabulary.Encode(e.Source).Length);
        MaxTargetLength = Train.Concat(HeldOut).Max(e => Vocabulary.Encode(e.Target).Length) + 1;
    }

    public TranslationVocabulary Vocabulary { get; }
    public IReadOnlyList<TranslationTask> Tasks { get; }

    /// <summary>Every training example, task by task.</summary>
    public IReadOnlyList<TranslationExample> Train { get; }

    /// <summary>Examples whose number or date never occurs in <see cref="Train"/>.</summary>
    public IReadOnlyList<TranslationExample> HeldOut { get; }

    /// <summary>Longest source in tokens (prefix included).</summary>
    public int MaxSourceLength { get; }

    /// <summary>Longest target in tokens, counting &lt;eos&gt; (the most tokens a decoder must generate).</summary>
    public int MaxTargetLength { get; }

    /// <summary>Training examples drawn with replacement; each picks a task uniformly, then an example of it.</summary>
    public IReadOnlyList<TranslationExample> Sample(int count, Random random)
    {
        Guard.Positive(count, nameof(count));
        return Enumerable.Range(0, count).Select(_ =>
        {
            var list = train[Tasks[random.Next(Tasks.Count)]];
            return list[random.Next(list.Count)];
        }).ToArray();
    }

    /// <summary>The examples as a padded teacher-forcing batch.</summary>
    public Seq2SeqBatch Batch(IReadOnlyList<TranslationExample> examples, Device? device = null) =>
        Seq2SeqBatch.From(examples.Select(e => Vocabulary.Encode(e.Source)).ToArray(),
            examples.Select(e => Vocabulary.Encode(e.Target)).ToArray(), Vocabulary.Special, device);

    /// <summary>0–999 in English words without "and": 342 → "three hundred forty two".</summary>
    public static string NumberToWords(int n)
    {
        if (n is < 0 or > 999) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be in 0..999.");
        if (n < 20) return Ones[n];
        var parts = new List<string>();
        if (n >= 100) parts.AddRange([Ones[n / 100], "hundred"]);
        int rest = n % 100;
        if (rest is > 0 and < 20) parts.Add(Ones[rest]);
        else if (rest >= 20)
        {
            parts.Add(Tens[rest / 10]);
            if (rest % 10 > 0) parts.Add(Ones[rest % 10]);
        }
        return string.Join(' ', parts);
    }

    /// <summary>2024-03-05 → "5 march 2024".</summary>
    public static string DateToText(DateOnly date) => $"{date.Day} {Months[date.Month - 1]} {date.Year}";

    static TranslationExample Example(TranslationTask task, int n) => task == TranslationTask.WordsToDigits
        ? new(task, $"{Prefix(task)} {NumberToWords(n)}", n.ToString(System.Globalization.CultureInfo.InvariantCulture))
        : new(task, $"{Prefix(task)} {n.ToString(System.Globalization.CultureInfo.InvariantCulture)}", NumberToWords(n));

    static TranslationExample Example(TranslationTask task, DateOnly date) =>
        new(task, $"{Prefix(task)} {date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)}", DateToText(date));
}
