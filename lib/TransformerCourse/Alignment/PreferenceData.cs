using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>One preference: a prompt and two completions of it, the preferred ("chosen") one and the other.</summary>
public sealed record PreferencePair(long[] Prompt, long[] Chosen, long[] Rejected);

/// <summary>A set of pairs, all with the same prompt and completion lengths, as (N, P + C) token tensors.</summary>
public sealed class PreferenceSet
{
    public PreferenceSet(IReadOnlyList<PreferencePair> pairs)
    {
        if (pairs.Count == 0) throw new ArgumentException("pairs must hold at least one pair.", nameof(pairs));
        PromptLength = pairs[0].Prompt.Length;
        CompletionLength = pairs[0].Chosen.Length;
        if (pairs.Any(p => p.Prompt.Length != PromptLength || p.Chosen.Length != CompletionLength || p.Rejected.Length != CompletionLength))
            throw new ArgumentException($"every pair needs a {PromptLength}-token prompt and two {CompletionLength}-token completions.", nameof(pairs));
        Pairs = pairs;
        Chosen = tensor(pairs.SelectMany(p => p.Prompt.Concat(p.Chosen)).ToArray(), [pairs.Count, PromptLength + CompletionLength]);
        Rejected = tensor(pairs.SelectMany(p => p.Prompt.Concat(p.Rejected)).ToArray(), [pairs.Count, PromptLength + CompletionLength]);
    }

    public IReadOnlyList<PreferencePair> Pairs { get; }
    public int PromptLength { get; }
    public int CompletionLength { get; }
    public int Count => Pairs.Count;

    /// <summary>Prompt + chosen completion per pair, (N, P + C), on the CPU.</summary>
    public Tensor Chosen { get; }

    /// <summary>Prompt + rejected completion per pair, (N, P + C), on the CPU.</summary>
    public Tensor Rejected { get; }

    /// <summary>The first <paramref name="count"/> pairs and the rest.</summary>
    public (PreferenceSet Head, PreferenceSet Tail) Split(int count)
    {
        if (count < 1 || count >= Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be between 1 and {Count - 1}.");
        return (new PreferenceSet(Pairs.Take(count).ToList()), new PreferenceSet(Pairs.Skip(count).ToList()));
    }
}

/// <summary>How a preference set was made: samples drawn, how many had the preferred property, pairs kept.</summary>
public sealed record PreferenceReport(int Prompts, int Samples, int WithProperty, int PromptsWithBoth, PreferenceSet Set);

/// <summary>
/// Builds a preference set from a policy's own samples and a rule a reader can check: for each prompt the policy writes
/// several completions; the first one that has the property is "chosen", the first one without it is "rejected".
/// Prompts whose samples all agree give no pair.
/// </summary>
public static class PreferenceData
{
    /// <summary><paramref name="count"/> prompts of <paramref name="length"/> tokens cut from <paramref name="text"/> at seeded random places.</summary>
    public static long[][] Prompts(Tensor text, int count, int length, int seed)
    {
        Guard.Positive(count, nameof(count));
        Guard.Positive(length, nameof(length));
        var tokens = text.data<long>().ToArray();
        if (tokens.Length <= length) throw new ArgumentException($"text has {tokens.Length} tokens, too few for {length}-token prompts.", nameof(text));
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => { int s = random.Next(tokens.Length - length); return tokens[s..(s + length)]; }).ToArray();
    }

    /// <summary>One sampled completion (τ = 1) of <paramref name="completionLength"/> tokens per prompt, seeded.</summary>
    public static Continuation[] Sample(GptModel model, IReadOnlyList<long[]> prompts, int completionLength, long seed)
        => Rollout.Sample(model, prompts, completionLength, new DecodingSettings(1.0), new Generator((ulong)seed));

    /// <summary>Samples <paramref name="samplesPerPrompt"/> completions per prompt and pairs one with the property against one without.</summary>
    public static PreferenceReport FromSamples(GptModel model, CharTokenizer tokenizer, IReadOnlyList<long[]> prompts, int samplesPerPrompt,
        int completionLength, Func<string, bool> preferred, long seed)
    {
        if (samplesPerPrompt < 2) throw new ArgumentOutOfRangeException(nameof(samplesPerPrompt), samplesPerPrompt, "samplesPerPrompt must be at least 2 to form a pair.");
        var repeated = prompts.SelectMany(p => Enumerable.Repeat(p, samplesPerPrompt)).ToList();
        var samples = Sample(model, repeated, completionLength, seed);
        var pairs = new List<PreferencePair>();
        int withProperty = 0;
        for (int i = 0; i < prompts.Count; i++)
        {
            var group = samples.Skip(i * samplesPerPrompt).Take(samplesPerPrompt).ToList();
            var flags = group.Select(c => preferred(tokenizer.Decode(c.Tokens))).ToList();
            withProperty += flags.Count(f => f);
            int good = flags.IndexOf(true), bad = flags.IndexOf(false);
            if (good >= 0 && bad >= 0) pairs.Add(new PreferencePair(prompts[i], group[good].Tokens, group[bad].Tokens));
        }
        if (pairs.Count == 0) throw new InvalidOperationException("no prompt produced one completion with the property and one without; sample more.");
        return new PreferenceReport(prompts.Count, samples.Length, withProperty, pairs.Count, new PreferenceSet(pairs));
    }
}

/// <summary>The style the lesson's preferences ask for: a completion written entirely in lower case.</summary>
public static class LowerCaseStyle
{
    /// <summary>True when the text has no upper-case letter.</summary>
    public static bool Holds(string text) => !text.Any(char.IsUpper);

    /// <summary>How many of <paramref name="texts"/> have the style.</summary>
    public static int Count(IEnumerable<string> texts) => texts.Count(Holds);
}
