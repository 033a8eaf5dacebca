using TransformerCourse.Alignment;
using TransformerCourse.Exercises;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 21's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson21ExerciseTests : TorchTest
{
    static double Softplus(double x) => Math.Log(1 + Math.Exp(x));

    // ----- Exercise 1: the DPO loss of one pair
    [Fact]
    public void Dpo_reference_passes() => Assert.True(Lesson21.DpoLoss((w, l, rw, rl, beta) =>
        -Math.Log(1 / (1 + Math.Exp(-beta * ((w - rw) - (l - rl)))))).Passed);

    [Fact]
    public void Dpo_placeholder_fails()
    {
        var verdict = Lesson21.DpoLoss((w, l, rw, rl, beta) => 0);
        Assert.False(verdict.Passed);
        Assert.Contains("placeholder", verdict.Feedback);
    }

    [Fact]
    public void Dpo_with_the_wrong_sign_is_named()
    {
        var verdict = Lesson21.DpoLoss((w, l, rw, rl, beta) => Softplus(beta * ((w - rw) - (l - rl))));
        Assert.False(verdict.Passed);
        Assert.Contains("sign is flipped", verdict.Feedback);
    }

    [Fact]
    public void Dpo_without_beta_is_named()
    {
        var verdict = Lesson21.DpoLoss((w, l, rw, rl, beta) => Softplus(-((w - rw) - (l - rl))));
        Assert.False(verdict.Passed);
        Assert.Contains("β, the strength", verdict.Feedback);
    }

    [Fact]
    public void Dpo_without_the_reference_is_named()
    {
        var verdict = Lesson21.DpoLoss((w, l, rw, rl, beta) => Softplus(-beta * (w - l)));
        Assert.False(verdict.Passed);
        Assert.Contains("reference log-probabilities are ignored", verdict.Feedback);
    }

    [Fact]
    public void Dpo_returning_the_probability_is_named()
    {
        var verdict = Lesson21.DpoLoss((w, l, rw, rl, beta) => 1 / (1 + Math.Exp(-beta * ((w - rw) - (l - rl)))));
        Assert.False(verdict.Passed);
        Assert.Contains("probability σ(·) itself", verdict.Feedback);
    }

    [Fact]
    public void Dpo_calling_the_library_is_refused()
    {
        var verdict = Lesson21.DpoLoss(Dpo.PairLoss);
        Assert.False(verdict.Passed);
        Assert.Contains("Dpo.PairLoss", verdict.Feedback);
    }

    [Fact]
    public void Dpo_through_the_bradley_terry_loss_is_refused()
    {
        var verdict = Lesson21.DpoLoss((w, l, rw, rl, beta) =>
        {
            using var chosen = tensor(new[] { beta * (w - rw) });
            using var rejected = tensor(new[] { beta * (l - rl) });
            return BradleyTerry.Loss(chosen, rejected).item<double>();
        });
        Assert.False(verdict.Passed);
        Assert.Contains("BradleyTerry.Loss", verdict.Feedback);
    }

    [Fact]
    public void Dpo_through_the_batched_library_loss_is_refused_by_its_own_name()
    {
        var verdict = Lesson21.DpoLoss((w, l, rw, rl, beta) =>
            Dpo.Loss(tensor(new[] { w }), tensor(new[] { l }), tensor(new[] { rw }), tensor(new[] { rl }), beta).item<double>());
        Assert.False(verdict.Passed);
        Assert.Contains("Dpo.Loss", verdict.Feedback);
        Assert.DoesNotContain("Dpo.Compute", verdict.Feedback);
    }

    [Fact]
    public void Dpo_hint_does_not_give_the_formula()
    {
        var verdict = Lesson21.DpoLoss((w, l, rw, rl, beta) => 0);
        Assert.DoesNotContain("σ(β", verdict.Feedback);
        Assert.DoesNotContain("Math.", verdict.Feedback);
    }

    // ----- Exercise 2: the Bradley–Terry loss of a batch
    [Fact]
    public void Reward_loss_reference_passes() =>
        Assert.True(Lesson21.RewardModelLoss((w, l) => nn.functional.softplus(l - w).mean()).Passed);

    [Fact]
    public void Reward_loss_placeholder_fails()
    {
        var verdict = Lesson21.RewardModelLoss((w, l) => zeros(1));
        Assert.False(verdict.Passed);
        Assert.Contains("placeholder", verdict.Feedback);
    }

    [Fact]
    public void Reward_loss_with_swapped_rewards_is_named()
    {
        var verdict = Lesson21.RewardModelLoss((w, l) => nn.functional.softplus(w - l).mean());
        Assert.False(verdict.Passed);
        Assert.Contains("swapped", verdict.Feedback);
    }

    [Fact]
    public void Reward_loss_summed_instead_of_averaged_is_named()
    {
        var verdict = Lesson21.RewardModelLoss((w, l) => nn.functional.softplus(l - w).sum());
        Assert.False(verdict.Passed);
        Assert.Contains("sum over the pairs", verdict.Feedback);
    }

    [Fact]
    public void Reward_loss_unstable_log_of_sigmoid_is_named()
    {
        var verdict = Lesson21.RewardModelLoss((w, l) => -(w - l).sigmoid().log().mean());
        Assert.False(verdict.Passed);
        Assert.Contains("log of 0", verdict.Feedback);
    }

    [Fact]
    public void Reward_loss_naive_log_of_one_plus_exp_names_the_overflow()
    {
        var verdict = Lesson21.RewardModelLoss((w, l) => (1 + (l - w).exp()).log().mean());
        Assert.False(verdict.Passed);
        Assert.Contains("overflows to infinity", verdict.Feedback);
    }

    [Fact]
    public void Reward_loss_through_the_dpo_loss_with_zero_references_is_refused()
    {
        var verdict = Lesson21.RewardModelLoss((w, l) => Dpo.Loss(w, l, zeros_like(w), zeros_like(l), 1.0));
        Assert.False(verdict.Passed);
        Assert.Contains("Dpo.Loss", verdict.Feedback);
    }

    [Fact]
    public void Reward_loss_hint_does_not_name_the_stable_function()
    {
        var verdict = Lesson21.RewardModelLoss((w, l) => zeros(1));
        Assert.DoesNotContain("softplus", verdict.Feedback, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("ln(1 + e", verdict.Feedback);
        Assert.DoesNotContain("logsigmoid", verdict.Feedback, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Reward_loss_without_gradient_is_named()
    {
        var verdict = Lesson21.RewardModelLoss((w, l) => nn.functional.softplus(l - w).mean().detach());
        Assert.False(verdict.Passed);
        Assert.Contains("no gradient", verdict.Feedback);
    }

    [Fact]
    public void Reward_loss_calling_the_library_is_refused()
    {
        var verdict = Lesson21.RewardModelLoss(BradleyTerry.Loss);
        Assert.False(verdict.Passed);
        Assert.Contains("BradleyTerry.Loss", verdict.Feedback);
    }
}
