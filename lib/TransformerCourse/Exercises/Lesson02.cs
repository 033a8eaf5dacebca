using TorchSharp;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 2 (Scaled Dot-Product Attention), and the hand-made sentence its heatmap uses.</summary>
public static class Lesson02
{
    /// <summary>The seven hand-made features of the sentence's words.</summary>
    public static readonly string[] Features = ["determiner", "animal", "thing", "verb", "pronoun", "adjective", "link word"];

    /// <summary>Each word's feature vector (order of <see cref="Features"/>).</summary>
    public static readonly IReadOnlyDictionary<string, float[]> Lexicon = new Dictionary<string, float[]>
    {
        ["the"] = [1, 0, 0, 0, 0, 0, 0],
        ["cat"] = [0, 1, 0, 0, 0, 0, 0],
        ["sat"] = [0, 0.3f, 0, 1, 0, 0, 0],
        ["on"] = [0, 0, 0.3f, 0, 0, 0, 1],
        ["mat"] = [0, 0, 1, 0, 0, 0, 0],
        ["because"] = [0, 0, 0, 0, 0, 0, 1],
        ["it"] = [0, 0.8f, 0, 0, 1, 0, 0],
        ["was"] = [0, 0, 0, 0.7f, 0, 0, 0.3f],
        ["tired"] = [0, 0.5f, 0, 0, 0, 1, 0],
    };

    public static readonly string[] Sentence = ["the", "cat", "sat", "on", "the", "mat", "because", "it", "was", "tired"];

    /// <summary>The features are multiplied by this so that the scores are not all tiny.</summary>
    public const float FeatureScale = 2.5f;

    /// <summary>The sentence as a (10, 7) matrix X: one row of scaled features per word.</summary>
    public static Tensor SentenceMatrix() => FeatureScale * stack(Sentence.Select(w => tensor(Lexicon[w])).ToArray());

    /// <summary>
    /// Exercise 1: Var(q·k) for q, k in R^d with independent zero-mean components of standard deviations σ_q, σ_k.
    /// Judged against a measurement on cases the lesson never printed.
    /// </summary>
    public static Verdict PredictedVariance(Func<int, double, double, double> yours) => Check("your PredictedVariance",
        "revisit the variance argument: redo its first step (the variance of one product q_i·k_i) without assuming unit variance, then combine the d terms the same way.",
        () =>
        {
            double Ask(int d, double sq, double sk)
            {
                double v = yours(d, sq, sk);
                Expect(double.IsFinite(v), $"PredictedVariance({d}, {sq}, {sk}) is {v}.");
                return v;
            }
            // Diagnose the usual slips by varying one argument at a time.
            double baseline = Ask(40, 1.5, 0.8);
            Expect(Math.Abs(Ask(40, 3.0, 2.4) - baseline) > 1e-9 * Math.Abs(baseline) + 1e-12,
                "it gives the same answer whatever σ_q and σ_k are: the spread of the components must change the spread of the score.");
            double dRatio = Ask(80, 1.5, 0.8) / baseline;
            Expect(Math.Abs(dRatio - 1) > 0.01, "it does not change with d, yet the score adds up d independent products.");
            Expect(Math.Abs(dRatio - 2) < 0.01, $"doubling d multiplies your prediction by {dRatio:G3}; independent terms add their variances, so twice as many terms means twice the variance.");
            double sigmaRatio = Ask(40, 3.0, 0.8) / baseline;
            Expect(Math.Abs(sigmaRatio - 2) > 0.01, "doubling σ_q doubles your prediction, but a variance is in squared units: doubling a standard deviation quadruples a variance.");
            Expect(Math.Abs(sigmaRatio - 4) < 0.04, $"doubling σ_q multiplies your prediction by {sigmaRatio:G3}, whatever σ_k is it should be a fixed factor — do σ_q and σ_k combine by a product?");

            using var generator = new Generator(seed: 202);
            foreach (var (d, sq, sk) in new (int, double, double)[] { (48, 2.0, 0.5), (12, 0.3, 1.7), (150, 1.2, 1.2) })
            {
                var dots = (sq * randn([20000, d], generator: generator) * (sk * randn([20000, d], generator: generator))).sum(-1);
                double measured = dots.var().item<float>();
                double predicted = Ask(d, sq, sk);
                Expect(Math.Abs(predicted - measured) <= 0.05 * measured,
                    $"for d = {d}, σ_q = {sq}, σ_k = {sk} it predicts {predicted:G4}, but 20 000 random pairs give a variance of {measured:G4} (more than 5 % apart).");
            }
        });

    /// <summary>The weights one query (seven features, scaled like the sentence) puts on the sentence's words (keys = values = X).</summary>
    public static float[] WeightsOver(float[] query)
    {
        if (query.Length != Features.Length)
            throw new ArgumentException($"query has {query.Length} numbers but there are {Features.Length} features.", nameof(query));
        using var scope = NewDisposeScope();
        var x = SentenceMatrix();
        var q = FeatureScale * tensor(query).reshape(1, -1);
        return (q.matmul(x.T) / Math.Sqrt(Features.Length)).softmax(-1)[0].data<float>().ToArray();
    }

    /// <summary>The longest query Exercise 2 accepts: a longer one could win by saturating the softmax.</summary>
    public const double MaxQueryLength = 2.0;

    /// <summary>The share of the weight Exercise 2 asks "cat" to get.</summary>
    public const double CatShareNeeded = 0.7;

    /// <summary>
    /// Exercise 2: a hand-designed query (seven features, length at most <see cref="MaxQueryLength"/>) that puts
    /// more than <see cref="CatShareNeeded"/> of its weight on "cat". The length cap closes the loophole of winning
    /// by sheer size (saturating the softmax); the share is set so that a query of the animal feature alone fails
    /// at the cap (about 64 %): the win has to come from the query's direction.
    /// </summary>
    public static Verdict QueryFindsCat(float[] yours) => Check("your query",
        "revisit \"Looking at the weights\": a score is a dot product with each key, and the softmax turns gaps between scores into ratios of weights.",
        () =>
        {
            Expect(yours is not null, "it is null.");
            Expect(yours!.Length == Features.Length, $"it has {yours.Length} numbers; it needs one per feature ({Features.Length}).");
            Expect(yours.All(float.IsFinite), "it contains NaN or an infinity.");
            var w = WeightsOver(yours);
            int cat = Array.IndexOf(Sentence, "cat");
            int best = Array.IndexOf(w, w.Max());
            double length = Math.Sqrt(yours.Sum(c => (double)c * c));
            if (length > MaxQueryLength + 1e-6)
            {
                Expect(w[cat] <= CatShareNeeded, $"it wins by sheer size: \"cat\" gets {w[cat]:P0}, but your query is {length:F2} long, over the limit of {MaxQueryLength}. Scaling a query up saturates the softmax — the regime this lesson showed starves the gradient. Shrink it to length {MaxQueryLength} or less and win by its direction instead.");
                Expect(false, $"it is {length:F2} long, over the limit of {MaxQueryLength} (and \"cat\" gets {w[cat]:P0}).");
            }
            if (w[cat] > CatShareNeeded) return;
            string winner = Sentence[best];
            Expect(winner == "cat", winner switch
            {
                "it" => $"\"it\" still takes the most weight ({w[best]:P0}, \"cat\" {w[cat]:P0}): your query still matches a feature that \"it\" has and \"cat\" lacks.",
                "tired" => $"\"tired\" takes the most weight ({w[best]:P0}, \"cat\" {w[cat]:P0}): it shares a feature with \"cat\", and has one \"cat\" lacks.",
                _ => $"\"{winner}\" takes the most weight ({w[best]:P0}); \"cat\" gets {w[cat]:P0}.",
            });
            var rivals = Sentence.Select((word, i) => (word, i)).Where(p => p.word != "cat").OrderByDescending(p => w[p.i]).Take(2)
                .Select(p => $"\"{p.word}\" {w[p.i]:P0}");
            Expect(false, $"\"cat\" is the best match but gets only {w[cat]:P0}, not more than {CatShareNeeded:P0} (next: {string.Join(", ", rivals)}): the gaps between its score and the others' are too small. Within the length limit a bigger gap has to come from the direction of the query: what do the closest rivals have that \"cat\" lacks?");
        });
}
