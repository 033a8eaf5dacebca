using TransformerCourse.Analysis;

namespace TransformerCourse.Scaling;

/// <summary>
/// How one small model compares with the law fitted on the models larger than it: the measured loss, the law's
/// prediction and its 95 % bootstrap band, the measurement's standard error, and whether the point lies outside the
/// band widened by two standard errors (then it has left the law).
/// </summary>
public sealed record LawDeparture(double Parameters, double Measured, double Predicted, double Low, double High, double StandardError,
    int FittedOn)
{
    public bool OffTheLaw => Measured < Low - 2 * StandardError || Measured > High + 2 * StandardError;

    /// <summary>Measured minus predicted: positive when the model does worse than the law says.</summary>
    public double Gap => Measured - Predicted;
}

public static class LawDepartures
{
    /// <summary>
    /// For each model from the smallest up, while at least <paramref name="minimumFitPoints"/> larger models remain: fit
    /// E + A·N^(−α) to the larger models only and compare the model with that law extrapolated down to its size.
    /// </summary>
    public static IReadOnlyList<LawDeparture> SmallestModels(IReadOnlyList<double> parameters, IReadOnlyList<double> loss,
        IReadOnlyList<double> standardError, int minimumFitPoints = 4, int bootstrap = 300, int seed = 0)
    {
        if (parameters.Count != loss.Count || loss.Count != standardError.Count)
            throw new ArgumentException($"parameters ({parameters.Count}), loss ({loss.Count}) and standardError ({standardError.Count}) must have the same length.", nameof(loss));
        for (int i = 1; i < parameters.Count; i++)
            if (!(parameters[i] > parameters[i - 1]))
                throw new ArgumentException($"parameters must be strictly increasing, but {parameters[i]} follows {parameters[i - 1]}.", nameof(parameters));
        if (minimumFitPoints < 4) throw new ArgumentOutOfRangeException(nameof(minimumFitPoints), minimumFitPoints, "a fit with an uncertainty needs at least 4 points.");
        var result = new List<LawDeparture>();
        for (int i = 0; parameters.Count - i - 1 >= minimumFitPoints; i++)
        {
            var fit = SaturatingPowerLawFit.FitUnchecked(parameters.Skip(i + 1).ToArray(), loss.Skip(i + 1).ToArray(), bootstrap, seed);
            var (low, high) = fit.Band(parameters[i]);
            result.Add(new LawDeparture(parameters[i], loss[i], fit.Law.Predict(parameters[i]), low, high, standardError[i], parameters.Count - i - 1));
        }
        return result;
    }
}
