using TransformerCourse.Alignment;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 21 (RLHF).</summary>
public static class Lesson21
{
    static readonly (double W, double L, double RefW, double RefL, double Beta)[] DpoCases =
    [
        (-20.0, -25.0, -22.0, -24.0, 0.1),
        (-14.0, -13.0, -15.0, -12.0, 0.5),
        (-30.0, -28.0, -27.0, -26.0, 0.1),
        (-9.0, -40.0, -10.0, -35.0, 0.05),
        (-18.5, -18.5, -18.5, -18.5, 0.1),   // the policy is the reference: ln 2
    ];

    /// <summary>
    /// Exercise 1: the DPO loss of one pair from four sequence log-probabilities and β:
    /// −ln σ(β[(ln π(y_w) − ln π_ref(y_w)) − (ln π(y_l) − ln π_ref(y_l))]).
    /// </summary>
    public static Verdict DpoLoss(Func<double, double, double, double, double, double> yours) => Check("your DpoLoss",
        "go back to the section \"Direct Preference Optimisation\": what does each completion's log-probability get compared with, where does β enter, and which way must the loss push the preferred completion?",
        () =>
        {
            foreach (var (w, l, rw, rl, beta) in DpoCases)
            {
                string what = $"ln π(y_w) = {w}, ln π(y_l) = {l}, ln π_ref(y_w) = {rw}, ln π_ref(y_l) = {rl}, β = {beta}";
                double want = Dpo.PairLoss(w, l, rw, rl, beta);
                double got = Forbidding(["Dpo.PairLoss", "Dpo.Loss", "Dpo.Compute", "BradleyTerry.Loss"], () => yours(w, l, rw, rl, beta));
                if (Math.Abs(got - want) <= 1e-6) continue;
                Expect(double.IsFinite(got), $"for {what} it returns {got}.");
                Expect(got != 0, $"for {what} it returns 0, but the loss is {want:0.0000}: the placeholder is still there.");
                double z = beta * ((w - rw) - (l - rl));
                Expect(Math.Abs(got - Softplus(z)) > 1e-6,
                    $"for {what} it returns {got:0.0000}: the sign is flipped, so lowering the loss would make the rejected completion more likely than the preferred one.");
                Expect(Math.Abs(got - Softplus(-z / beta)) > 1e-6,
                    $"for {what} it returns {got:0.0000}, the value with β = 1: β, the strength of the pull back to the reference, is missing.");
                Expect(Math.Abs(got - Softplus(-beta * (w - l))) > 1e-6,
                    $"for {what} it returns {got:0.0000}: the reference log-probabilities are ignored, so the loss rewards any policy that ranks y_w above y_l, even the reference itself.");
                Expect(Math.Abs(got + Softplus(-z)) > 1e-6,
                    $"for {what} it returns {got:0.0000}, the log-probability of the preference; the loss is its negative.");
                Expect(Math.Abs(got - 1 / (1 + Math.Exp(-z))) > 1e-6,
                    $"for {what} it returns {got:0.0000}, the probability σ(·) itself; the loss takes its negative logarithm.");
                Expect(false, $"for {what} it returns {got:0.0000}, but the loss is {want:0.0000}.");
            }
        });

    static double Softplus(double x) => x > 30 ? x : Math.Log(1 + Math.Exp(x));

    /// <summary>
    /// Exercise 2: the reward model's Bradley–Terry loss over a batch, mean of −ln σ(r_w − r_l), finite for any margin and
    /// with the right gradient.
    /// </summary>
    public static Verdict RewardModelLoss(Func<Tensor, Tensor, Tensor> yours) => Check("your RewardModelLoss",
        "go back to the section \"A reward model from pairwise preferences\": which probability does the model give the human's choice, what is minimised, and how is one number made from a batch? Work from the reward margin directly, never forming the probability first.",
        () =>
        {
            var generator = new Generator(21);
            var cases = new List<(string What, Tensor W, Tensor L)>
            {
                ("8 pairs of random rewards", randn([8], generator: generator), randn([8], generator: generator)),
                ("5 pairs with equal rewards", ones(5) * 0.7f, ones(5) * 0.7f),
                ("3 pairs of larger rewards", randn([3], generator: generator) * 4, randn([3], generator: generator) * 4),
                ("2 pairs with margins of +200 and −200", tensor(new float[] { 100f, -100f }), tensor(new float[] { -100f, 100f })),
            };
            foreach (var (what, w, l) in cases)
            {
                var (rw, rl) = (w.clone().requires_grad_(true), l.clone().requires_grad_(true));
                var answer = Forbidding(["BradleyTerry.Loss", "Dpo.Loss", "Dpo.Compute"], () => yours(rw, rl));
                Expect(answer is not null, $"for {what} it returns null.");
                Expect(answer!.numel() == 1, $"for {what} it returns a tensor of shape {Guard.Shape(answer)}; the loss is one number for the batch (the mean over pairs).");
                double got = answer.to_type(ScalarType.Float64).item<double>();
                var reference = nn.functional.softplus(l.to_type(ScalarType.Float64) - w.to_type(ScalarType.Float64));
                double want = reference.mean().item<double>();
                if (Math.Abs(got - want) > 1e-4 * Math.Max(1, Math.Abs(want)))
                {
                    Expect(!double.IsPositiveInfinity(got),
                        $"for {what} it returns +∞: in float32 an exponential of 200 overflows to infinity, and a probability of σ(−200) rounds to 0 (the log of 0 is infinite); either way the logarithm is infinite, so compute the loss in a form that forms neither number.");
                    Expect(double.IsFinite(got),
                        $"for {what} it returns {got}: somewhere an intermediate number left float32's range (an overflowing exponential, or the log of 0), so compute the loss in a form that forms neither.");
                    Expect(got != 0, $"for {what} it returns 0, but the loss is {want:0.0000}: the placeholder is still there.");
                    double reversed = nn.functional.softplus(w.to_type(ScalarType.Float64) - l.to_type(ScalarType.Float64)).mean().item<double>();
                    Expect(Math.Abs(got - reversed) > 1e-4 * Math.Max(1, Math.Abs(reversed)),
                        $"for {what} it returns {got:0.0000}: the two rewards are swapped, so training would rank the rejected completion higher.");
                    double sum = reference.sum().item<double>();
                    Expect(w.numel() == 1 || Math.Abs(got - sum) > 1e-4 * Math.Max(1, Math.Abs(sum)),
                        $"for {what} it returns {got:0.0000}, the sum over the pairs; the loss is their mean, so its size does not depend on the batch.");
                    double probability = (w - l).to_type(ScalarType.Float64).sigmoid().mean().item<double>();
                    Expect(Math.Abs(got - probability) > 1e-4,
                        $"for {what} it returns {got:0.0000}, the mean probability of the preferred completion; the loss is the mean negative log of it.");
                    Expect(false, $"for {what} it returns {got:0.0000}, but the loss is {want:0.0000}.");
                }
                Expect(answer.requires_grad, $"for {what} the value is right but it carries no gradient back to the rewards, so the reward model could not learn from it.");
                answer.backward();
                var wantGrad = -(l - w).to_type(ScalarType.Float64).sigmoid() / w.numel();
                Expect(rw.grad is not null && Same(rw.grad, wantGrad, 1e-5),
                    $"for {what} the value is right but its gradient with respect to the chosen rewards is not.");
            }
        });
}
