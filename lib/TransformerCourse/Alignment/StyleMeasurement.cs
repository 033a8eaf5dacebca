using System.Text.RegularExpressions;
using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>What a policy writes on fixed prompts, measured: its completions, how many have the lower-case style, the
/// reward model's mean score, the KL to the reference estimated from these samples (mean of ln π(y|x) − ln π_ref(y|x)),
/// and the reference's mean log-probability per character of these samples.</summary>
public sealed record StyleMeasurement(IReadOnlyList<string> Texts, int Count, double MeanScore, double SampleKl, double ReferenceLogProbPerToken)
{
    public int Samples => Texts.Count;
    public double Share => (double)Count / Samples;

    /// <summary>Completions with a run of four or more identical letters ("eeee"), which Shakespeare's text almost never has.</summary>
    public int WithRepeatedLetters => Texts.Count(t => Regex.IsMatch(t, @"(\p{L})\1\1\1"));

    /// <summary>One completion per prompt from <paramref name="policy"/> (τ = 1, seeded), then the measurements above.</summary>
    public static StyleMeasurement Measure(GptModel policy, GptModel reference, RewardModel rewardModel, CharTokenizer tokenizer,
        IReadOnlyList<long[]> prompts, int completionLength, long seed)
    {
        var samples = PreferenceData.Sample(policy, prompts, completionLength, seed);
        var texts = samples.Select(c => tokenizer.Decode(c.Tokens)).ToList();
        var underReference = Rollout.Score(reference, prompts, samples.Select(c => c.Tokens).ToArray());
        int p = prompts[0].Length;
        var tokens = tensor(samples.SelectMany(c => c.Prompt.Concat(c.Tokens)).ToArray(), [samples.Length, p + completionLength]);
        double score = RewardModelTrainer.Score(rewardModel, tokens).Average();
        double kl = samples.Zip(underReference).Average(t => t.First.LogLikelihood - t.Second.LogLikelihood);
        return new StyleMeasurement(texts, LowerCaseStyle.Count(texts), score, kl, underReference.Average(c => c.MeanLogLikelihood));
    }

    /// <summary>Standard error of the difference between two shares measured on independent samples of these sizes.</summary>
    public static double DifferenceStandardError(StyleMeasurement a, StyleMeasurement b) =>
        Math.Sqrt(a.Share * (1 - a.Share) / a.Samples + b.Share * (1 - b.Share) / b.Samples);
}
