using TorchSharp;
using TransformerCourse.EncoderFamily;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 15 (The Encoder Family).</summary>
public static class Lesson15
{
    /// <summary>
    /// Exercise 1: ALBERT on a parameter budget. <c>yours(V, H, budget)</c> returns the largest embedding width E ≥ 1
    /// whose factorised embedding (a V×E table, then an E×H projection with a bias) has at most <c>budget</c>
    /// parameters, or 0 when not even E = 1 fits.
    /// </summary>
    public static Verdict WidestEmbedding(Func<long, long, long, long> yours) => Check("your WidestEmbedding",
        "go back to the section on ALBERT: write down what the factorised embedding costs for a given E (every matrix and every bias), then ask how that cost grows by one step of E",
        () =>
        {
            var cases = new (long V, long H, long Budget)[]
            {
                (30000, 768, 23_040_000), (30000, 768, 4_000_000), (50, 32, 1000), (1000, 64, 10_000), (7, 5, 17), (100, 10, 115), (100, 10, 5),
            };
            foreach (var (v, h, budget) in cases)
            {
                long want = Math.Max(0, (budget - h) / (v + h));
                string call = $"WidestEmbedding(V: {v:N0}, H: {h:N0}, budget: {budget:N0})";
                long got = Forbidding(["FactorisedEmbedding.ParameterCount"], () => yours(v, h, budget));
                if (got == want) continue;
                string result = $"{call} gives {got:N0} instead of {want:N0}";
                Expect(got != 0 || want == 0, $"{call} returns 0: replace the placeholder with the width.");
                Expect(got >= 0, $"{result}: a width cannot be negative; when not even E = 1 fits, the answer is 0.");
                long Cost(long e) => v * e + e * h + h;
                Expect(got != Math.Max(0, budget / (v + h)), $"{result}: the projection's bias (one number per output, H of them) is missing from the cost.");
                Expect(got != Math.Max(0, (budget - h) / v) && got != Math.Max(0, budget / v), $"{result}: the E×H projection up to the model width is missing from the cost.");
                Expect(got != budget / (v * h), $"{result}: V×E×H is not the cost; the table and the projection are two separate matrices whose sizes add.");
                Expect(Cost(got) <= budget, $"{result}: with E = {got:N0} the embedding costs {Cost(got):N0} parameters, over the budget. Round down, not up.");
                Expect(got >= want, $"{result}: E = {want:N0} still fits (it costs {Cost(want):N0}); look for the largest width, not a smaller one.");
                Expect(false, $"{result}.");
            }
        });

    /// <summary>
    /// Exercise 2: the soft-target term of the distillation loss, T² · KL(softmax(teacher/T) ‖ softmax(student/T)),
    /// summed over the vocabulary and averaged over rows. <c>yours(student (N, V), teacher (N, V), T)</c>.
    /// </summary>
    public static Verdict SoftTargetLoss(Func<Tensor, Tensor, double, Tensor> yours) => Check("your SoftTargetLoss",
        "go back to the section on DistilBERT: which distributions are softened by T, which one is the target, and why is the term rescaled as T changes?",
        () =>
        {
            var random = new Generator(seed: 15);
            foreach (double T in new[] { 1.0, 2.0, 4.0, 0.5 })
            {
                foreach (var (n, v) in new[] { (3, 5), (1, 8), (6, 4) })
                {
                    using var student = randn(n, v, dtype: ScalarType.Float64, generator: random).mul(2).requires_grad_();
                    using var teacher = randn(n, v, dtype: ScalarType.Float64, generator: random).mul(2);
                    var answer = Forbidding(["Distillation.SoftTargetLoss"], () => yours(student, teacher.clone(), T));
                    Expect(answer is not null, "it returns null; return a scalar tensor.");
                    Expect(answer!.numel() == 1, $"it returns shape {Guard.Shape(answer)}; return one number, averaged over the {n} rows.");
                    double got = answer.to_type(ScalarType.Float64).item<double>();
                    double want = Reference(student, teacher, T, T * T, T, T, mean: true);
                    string call = $"for {n} rows of {v} logits at T = {T}";
                    if (Math.Abs(got - want) <= 1e-6 * Math.Max(1, Math.Abs(want)))
                    {
                        Expect(answer.requires_grad, $"{call} the value is right, but it carries no gradient to the student's logits (was something detached or converted to numbers?): the student learns through this loss.");
                        continue;
                    }
                    Expect(got != 0, $"{call} it returns 0, but the student and the teacher disagree: replace the placeholder with the loss.");
                    string result = $"{call} it gives {got:0.######} instead of {want:0.######}";
                    bool Is(double x) => Math.Abs(got - x) <= 1e-6 * Math.Max(1, Math.Abs(x));
                    Expect(!Is(Reference(student, teacher, T, 1, T, T, true)), $"{result}: the T² factor is missing. Softening shrinks the term's gradients by 1/T², and the factor puts them back.");
                    Expect(!Is(Reference(student, teacher, T, T, T, T, true)), $"{result}: it is scaled by T, not by T².");
                    Expect(!Is(Reference(student, teacher, T, T * T, 1, T, true)) && !Is(Reference(student, teacher, T, 1, 1, T, true)),
                        $"{result}: the student's softmax is taken without the temperature. Both distributions are softened by the same T.");
                    Expect(!Is(Reference(student, teacher, T, T * T, T, 1, true)) && !Is(Reference(student, teacher, T, 1, T, 1, true)),
                        $"{result}: the teacher's softmax is taken without the temperature. Both distributions are softened by the same T.");
                    Expect(!Is(Reversed(student, teacher, T)), $"{result}: the KL divergence runs the wrong way round. The teacher's distribution is the target, so it weights the log-ratio.");
                    Expect(!Is(Reference(student, teacher, T, T * T, T, T, true) + T * T * TeacherEntropy(teacher, T)),
                        $"{result}: that is the cross-entropy with soft targets, which adds the teacher's entropy: it does not reach 0 when the student copies the teacher. Ask for the KL divergence.");
                    Expect(!Is(Reference(student, teacher, T, T * T, T, T, mean: false)), $"{result}: it sums over the rows; average over them, so the size of the batch does not change the loss.");
                    Expect(!Is(Reference(student, teacher, T, T * T, T, T, true) / v), $"{result}: it averages over the vocabulary as well; the KL divergence sums over it.");
                    Expect(false, $"{result}.");
                }
            }
        });

    /// <summary>
    /// Exercise 3: mean pooling. <c>yours(hidden (B, L, H), keep (B, L) boolean)</c> returns (B, H): each row's average
    /// over the positions where keep is true; a row with nothing kept gives zeros.
    /// </summary>
    public static Verdict MeanPool(Func<Tensor, Tensor, Tensor> yours) => Check("your MeanPool",
        "go back to the section on sentence embeddings: which positions belong to the sentence, and what do you divide by?",
        () =>
        {
            var random = new Generator(seed: 15);
            var cases = new (int B, int L, int H, bool[,] Keep)[]
            {
                (2, 4, 3, new[,] { { true, true, false, false }, { true, true, true, true } }),
                (3, 5, 2, new[,] { { true, false, false, false, false }, { true, true, true, false, false }, { true, true, true, true, false } }),
                (2, 3, 4, new[,] { { true, true, true }, { false, false, false } }),
            };
            foreach (var (b, l, h, keepArray) in cases)
            {
                using var hidden = randn(b, l, h, dtype: ScalarType.Float64, generator: random);
                using var keep = tensor(keepArray);
                var answer = Forbidding(["MeanPooling.Pool"], () => yours(hidden.clone(), keep.clone()));
                var got = ExpectShape(answer, [b, h], "the result");
                var want = MeanPooling.Pool(hidden, keep);
                string lengths = $"rows with {string.Join(", ", Enumerable.Range(0, b).Select(r => Enumerable.Range(0, l).Count(c => keepArray[r, c])))} real tokens out of {l}";
                if (Same(got, want, 1e-6)) continue;
                Expect(got.abs().sum().item<double>() != 0, $"for {lengths} it returns zeros: replace the placeholder with the average.");
                var weights = keep.to_type(ScalarType.Float64).unsqueeze(-1);
                bool emptyRow = Enumerable.Range(0, b).Any(r => Enumerable.Range(0, l).All(c => !keepArray[r, c]));
                Expect(!(emptyRow && got.isnan().any().item<bool>()), $"for {lengths} a row with no real token gives NaN (0 / 0): such a row should give zeros.");
                Expect(!Same(got, hidden.mean([1]), 1e-6), $"for {lengths} it averages over every position, padding included.");
                Expect(!Same(got, (hidden * weights).sum(1) / l, 1e-6), $"for {lengths} it sums the real tokens but divides by the full length {l}, padding included.");
                Expect(!Same(got, (hidden * weights).sum(1), 1e-6), $"for {lengths} it sums the real tokens but never divides by their number.");
                Expect(false, $"for {lengths} the pooled vectors are not the average of each row's real tokens.");
            }
        });

    static double Reference(Tensor student, Tensor teacher, double T, double scale, double studentT, double teacherT, bool mean)
    {
        using var scope = NewDisposeScope();
        var ls = nn.functional.log_softmax(student.detach() / studentT, -1);
        var lt = nn.functional.log_softmax(teacher.detach() / teacherT, -1);
        var kl = (lt.exp() * (lt - ls)).sum(-1);
        return (mean ? kl.mean() : kl.sum()).item<double>() * scale;
    }

    static double Reversed(Tensor student, Tensor teacher, double T)
    {
        using var scope = NewDisposeScope();
        var ls = nn.functional.log_softmax(student.detach() / T, -1);
        var lt = nn.functional.log_softmax(teacher.detach() / T, -1);
        return (ls.exp() * (ls - lt)).sum(-1).mean().item<double>() * T * T;
    }

    static double TeacherEntropy(Tensor teacher, double T)
    {
        using var scope = NewDisposeScope();
        var lt = nn.functional.log_softmax(teacher.detach() / T, -1);
        return -(lt.exp() * lt).sum(-1).mean().item<double>();
    }
}
