using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>What <see cref="Dpo.Compute"/> returns: the mean loss and, per pair, the implicit rewards
/// β·(ln π − ln π_ref) of the chosen and the rejected completion.</summary>
public sealed record DpoTerms(Tensor Loss, Tensor ChosenRewards, Tensor RejectedRewards)
{
    /// <summary>Implicit reward margin per pair: chosen − rejected.</summary>
    public Tensor Margins => ChosenRewards - RejectedRewards;
}

/// <summary>
/// Direct Preference Optimisation (Rafailov et al., 2023, eq. 7):
/// L = −ln σ(β [(ln π(y_w|x) − ln π_ref(y_w|x)) − (ln π(y_l|x) − ln π_ref(y_l|x))]), averaged over pairs.
/// The arguments are sequence log-probabilities (one per pair, see <see cref="SequenceLogProbs.Of"/>); the reference
/// ones are constants (no gradient).
/// </summary>
public static class Dpo
{
    public static DpoTerms Compute(Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected, double beta)
    {
        Exercises.RebuiltRoutines.Enter("Dpo.Compute");
        Guard.Positive(beta, nameof(beta));
        var shape = policyChosen.shape;
        foreach (var (t, name) in new[] { (policyRejected, nameof(policyRejected)), (referenceChosen, nameof(referenceChosen)), (referenceRejected, nameof(referenceRejected)) })
            if (!t.shape.SequenceEqual(shape))
                throw new ArgumentException($"{name} has shape {Guard.Shape(t)} but policyChosen has {Guard.Shape(policyChosen)}: one log-probability per pair in each.", name);
        using var scope = NewDisposeScope();
        var chosen = beta * (policyChosen - referenceChosen.detach());
        var rejected = beta * (policyRejected - referenceRejected.detach());
        var loss = nn.functional.softplus(rejected - chosen).mean();
        return new DpoTerms(loss.MoveToOuterDisposeScope(), chosen.MoveToOuterDisposeScope(), rejected.MoveToOuterDisposeScope());
    }

    /// <summary>The loss alone (see <see cref="Compute"/>).</summary>
    public static Tensor Loss(Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected, double beta)
    {
        Exercises.RebuiltRoutines.Enter("Dpo.Loss");
        return Compute(policyChosen, policyRejected, referenceChosen, referenceRejected, beta).Loss;
    }

    /// <summary>One pair in plain numbers: −ln σ(β[(a − a_ref) − (b − b_ref)]).</summary>
    public static double PairLoss(double policyChosen, double policyRejected, double referenceChosen, double referenceRejected, double beta)
    {
        Exercises.RebuiltRoutines.Enter("Dpo.PairLoss");
        Guard.Positive(beta, nameof(beta));
        double z = beta * ((policyChosen - referenceChosen) - (policyRejected - referenceRejected));
        return z > 0 ? Math.Log(1 + Math.Exp(-z)) : -z + Math.Log(1 + Math.Exp(z));
    }

    /// <summary>∂L/∂ln π(y_w) for one pair in closed form: −β σ(−z), with z the bracket times β (∂L/∂ln π(y_l) is its negative).</summary>
    public static double ChosenGradient(double policyChosen, double policyRejected, double referenceChosen, double referenceRejected, double beta)
    {
        double z = beta * ((policyChosen - referenceChosen) - (policyRejected - referenceRejected));
        return -beta / (1 + Math.Exp(z));
    }
}
