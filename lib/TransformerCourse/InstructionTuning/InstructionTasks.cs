using System.Text;
using TransformerCourse.Data;

namespace TransformerCourse.InstructionTuning;

/// <summary>One instruction and the response it asks for. <see cref="Prompt"/> ends with the separator '=', <see cref="Response"/> with the end mark '.'.</summary>
public sealed record InstructionPair(string Task, string Input, string Prompt, string Response)
{
    public string Text => Prompt + Response;
}

/// <summary>
/// The lesson's generated instruction data, deterministic and documented in datasets/lesson20-synthetic-tasks.md.
/// An instruction is "task: input=" with an input of 4 lowercase letters; the response is the answer followed by '.'.
/// Tasks: reverse ("reverse: abc=" → "cba."), sort ("sort: cab=" → "abc."), upper ("upper: abc=" → "ABC.").
/// Inputs are split by a fixed hash: every input whose hash is 0 mod 5 is held out and never used for training.
/// The base model is pretrained on plain text in the same alphabet: lines of 1–3 lowercase words ending in '.'.
/// </summary>
public static class InstructionTasks
{
    public const char Separator = '=';
    public const char EndOfResponse = '.';
    public const int MinInputLength = 4, MaxInputLength = 4;

    public static IReadOnlyList<string> Tasks { get; } = ["reverse", "sort", "upper"];

    /// <summary>Lowercase and uppercase letters, space, ':', '=' and '.': 56 characters.</summary>
    public static CharTokenizer Tokenizer { get; } =
        new("abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + " :" + Separator + EndOfResponse);

    /// <summary>The longest instruction plus response, in characters.</summary>
    public static int MaxTextLength => Tasks.Max(t => t.Length) + 2 + MaxInputLength + 1 + MaxInputLength + 1;

    /// <summary>The answer (without the end mark) to <paramref name="task"/> applied to <paramref name="input"/>.</summary>
    public static string Answer(string task, string input) => task switch
    {
        "reverse" => Reversed(input),
        "sort" => new string(input.Order().ToArray()),
        "upper" => input.ToUpperInvariant(),
        _ => throw new ArgumentException($"task '{task}' is not one of: {string.Join(", ", Tasks)}.", nameof(task)),
    };

    static string Reversed(string input)
    {
        var letters = input.ToCharArray();
        Array.Reverse(letters);
        return new string(letters);
    }

    public static InstructionPair Make(string task, string input)
    {
        if (input.Length is < MinInputLength or > MaxInputLength || input.Any(c => c is < 'a' or > 'z'))
            throw new ArgumentException($"input '{input}' must be {MinInputLength}–{MaxInputLength} lowercase letters.", nameof(input));
        return new InstructionPair(task, input, $"{task}: {input}{Separator}", Answer(task, input) + EndOfResponse);
    }

    /// <summary>True for the inputs kept for evaluation: a fixed polynomial hash of the letters is 0 mod 5 (never string.GetHashCode, which changes per process).</summary>
    public static bool IsHeldOut(string input)
    {
        long h = 0;
        foreach (var c in input) h = (h * 31 + c) % 1_000_003;
        return h % 5 == 0;
    }

    /// <summary>A random pair (task and input uniform) from the training or the held-out side of the split.</summary>
    public static InstructionPair RandomPair(Random random, bool heldOut)
    {
        while (true)
        {
            var input = RandomWord(random);
            if (IsHeldOut(input) == heldOut) return Make(Tasks[random.Next(Tasks.Count)], input);
        }
    }

    /// <summary><paramref name="perTask"/> distinct held-out inputs per task, the same for every call with the same seed.</summary>
    public static IReadOnlyList<InstructionPair> HeldOut(int perTask, int seed)
    {
        Guard.Positive(perTask, nameof(perTask));
        var random = new Random(seed);
        var pairs = new List<InstructionPair>();
        foreach (var task in Tasks)
        {
            var seen = new HashSet<string>();
            while (seen.Count < perTask)
            {
                var input = RandomWord(random);
                if (IsHeldOut(input) && seen.Add(input)) pairs.Add(Make(task, input));
            }
        }
        return pairs;
    }

    /// <summary>Plain pretraining text of about <paramref name="characters"/> characters: lines of 1–3 random lowercase words, each line ending in '.'.</summary>
    public static string PlainText(int characters, int seed)
    {
        Guard.Positive(characters, nameof(characters));
        var random = new Random(seed);
        var text = new StringBuilder();
        while (text.Length < characters)
        {
            int words = random.Next(1, 4);
            text.Append(string.Join(' ', Enumerable.Range(0, words).Select(_ => RandomWord(random)))).Append(EndOfResponse);
        }
        return text.ToString();
    }

    static string RandomWord(Random random)
    {
        int length = random.Next(MinInputLength, MaxInputLength + 1);
        return new string(Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(26))).ToArray());
    }
}
