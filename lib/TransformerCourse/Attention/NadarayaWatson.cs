using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Attention;

/// <summary>
/// Nadaraya–Watson kernel regression (1964): predict at x by averaging training targets, weighted by
/// a Gaussian of the distance to each training input. It is attention with query x, keys x_i,
/// values y_i and score −(x − x_i)² / (2h²).
/// </summary>
public static class NadarayaWatson
{
    /// <returns>Predictions (n_query) and the weight matrix (n_query, n_train); rows sum to 1.</returns>
    public static AttentionResult Predict(Tensor trainX, Tensor trainY, Tensor queryX, double bandwidth)
    {
        Exercises.RebuiltRoutines.Enter("NadarayaWatson.Predict");
        Guard.RankExactly(trainX, 1, nameof(trainX), "n_train");
        Guard.RankExactly(trainY, 1, nameof(trainY), "n_train");
        Guard.RankExactly(queryX, 1, nameof(queryX), "n_query");
        if (trainX.shape[0] != trainY.shape[0])
            throw new ArgumentException($"trainX {Guard.Shape(trainX)} and trainY {Guard.Shape(trainY)} must have the same length.", nameof(trainY));
        Guard.Positive(bandwidth, nameof(bandwidth));
        using var scope = NewDisposeScope();
        var diff = queryX.unsqueeze(1) - trainX.unsqueeze(0);
        var weights = (-(diff * diff) / (2 * bandwidth * bandwidth)).softmax(1);
        var output = weights.matmul(trainY);
        return new AttentionResult(output.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }
}
