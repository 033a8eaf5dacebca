using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>
/// The Bradley–Terry model of pairwise preferences (Bradley and Terry, 1952), as used for reward models by
/// Christiano et al. (2017) and Ouyang et al. (2022): P(chosen ≻ rejected) = σ(r_chosen − r_rejected), trained by
/// minimising −ln σ(r_chosen − r_rejected), which is ln 2 whenever the two rewards are equal.
/// </summary>
public static class BradleyTerry
{
    /// <summary>σ(r_chosen − r_rejected) per pair.</summary>
    public static Tensor Probability(Tensor chosenRewards, Tensor rejectedRewards)
    {
        Check(chosenRewards, rejectedRewards);
        return (chosenRewards - rejectedRewards).sigmoid();
    }

    /// <summary>Mean over pairs of −ln σ(r_chosen − r_rejected), computed stably as softplus(r_rejected − r_chosen).</summary>
    public static Tensor Loss(Tensor chosenRewards, Tensor rejectedRewards)
    {
        Exercises.RebuiltRoutines.Enter("BradleyTerry.Loss");
        Check(chosenRewards, rejectedRewards);
        using var scope = NewDisposeScope();
        return nn.functional.softplus(rejectedRewards - chosenRewards).mean().MoveToOuterDisposeScope();
    }

    /// <summary>Share of pairs whose chosen completion gets the higher reward (a tie counts as half).</summary>
    public static double Accuracy(Tensor chosenRewards, Tensor rejectedRewards)
    {
        Check(chosenRewards, rejectedRewards);
        using var scope = NewDisposeScope();
        var diff = (chosenRewards - rejectedRewards).detach().to_type(ScalarType.Float64);
        return ((diff > 0).to_type(ScalarType.Float64) + 0.5 * (diff == 0).to_type(ScalarType.Float64)).mean().item<double>();
    }

    static void Check(Tensor chosen, Tensor rejected)
    {
        if (!chosen.shape.SequenceEqual(rejected.shape))
            throw new ArgumentException($"chosenRewards {Guard.Shape(chosen)} and rejectedRewards {Guard.Shape(rejected)} must have one shape (one reward per pair).", nameof(rejected));
    }
}
