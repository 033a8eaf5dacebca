using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>The loss of freshly initialised models of one shape, averaged over several random draws of the weights.</summary>
/// <param name="LogitVariance">σ²: the variance of the logits across the vocabulary at one position, averaged over positions and models.</param>
/// <param name="StandardError">Standard error of <paramref name="MeanLoss"/> over the models.</param>
public sealed record InitialLossMeasurement(int Width, int Models, double MeanLoss, double StandardError, double LogitVariance, double Predicted);

/// <summary>
/// What the next-token loss of an untrained model should be. With logits z_1 … z_V of mean m and small variance σ² at
/// one position, loss = −z_y + ln Σ e^{z_i} = ln V − z_y + ln((1/V) Σ e^{z_i}), and a second-order expansion of the
/// last term gives m + σ²/2. An untrained model's logit for the right token is on average m, so
/// E[loss] ≈ ln V + σ²/2.
/// </summary>
public static class InitialLoss
{
    public static double Predicted(int vocabSize, double logitVariance)
    {
        if (vocabSize <= 0) throw new ArgumentException($"vocabSize must be positive but is {vocabSize}.", nameof(vocabSize));
        if (!(logitVariance >= 0)) throw new ArgumentException($"logitVariance must be non-negative but is {logitVariance}.", nameof(logitVariance));
        return Math.Log(vocabSize) + logitVariance / 2;
    }

    /// <summary>
    /// Builds <paramref name="models"/> models of <paramref name="config"/> (model i seeded with seed + i), scores model i on
    /// <c>batch(i)</c> (inputs and shifted targets) in eval mode, and averages the loss and the logits' variance across the vocabulary.
    /// </summary>
    public static InitialLossMeasurement Measure(GptConfig config, Func<int, (Tensor Inputs, Tensor Targets)> batch, int models, long seed = 0)
    {
        if (models < 2) throw new ArgumentException($"models must be at least 2 to give a standard error, but is {models}.", nameof(models));
        var losses = new List<double>();
        var variances = new List<double>();
        for (int i = 0; i < models; i++)
        {
            manual_seed(seed + i);
            using var model = new GptModel(config);
            model.eval();
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var (x, y) = batch(i);
            var logits = model.forward(x);
            losses.Add(nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), y.reshape(-1)).item<float>());
            variances.Add(logits.to_type(ScalarType.Float64).var(-1, unbiased: false).mean().item<double>());
        }
        double mean = losses.Average(), variance = variances.Average();
        double se = Math.Sqrt(losses.Sum(l => (l - mean) * (l - mean)) / (models - 1) / models);
        return new InitialLossMeasurement(config.Width, models, mean, se, variance, Predicted(config.VocabSize, variance));
    }
}
