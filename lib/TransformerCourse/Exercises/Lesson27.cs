using TorchSharp;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 27 (Training on the GPU).</summary>
public static class Lesson27
{
    /// <summary>The warm-up + cosine schedule, written independently of the library so the check does not trust it.</summary>
    static double Reference(int step, double peak, double floor, int warmup, int total)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        if (step >= total) return floor;
        return floor + 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / (total - warmup))) * (peak - floor);
    }

    static readonly (double Peak, double Floor, int Warmup, int Total)[] Schedules = [(6e-4, 6e-5, 20, 300), (1e-3, 1e-4, 100, 2000), (2.0, 0.5, 3, 11)];

    /// <summary>Exercise 1: η(step) for linear warm-up over `warmup` steps, then a cosine from the peak to the floor at `total` (and the floor after it).</summary>
    public static Verdict LearningRate(Func<int, double, double, int, int, double> yours) => Check("your schedule",
        "reread section 3 and trace three steps by hand: the first step, the last warm-up step, and step `total`. What should each rate be?",
        () => Forbidding(["WarmupCosineSchedule.At"], () =>
        {
            foreach (var (peak, floor, warmup, total) in Schedules)
            {
                string set = $"(peak {peak}, floor {floor}, warm-up {warmup}, total {total})";
                double Yours(int s) => yours(s, peak, floor, warmup, total);
                bool Close(double a, double b) => Math.Abs(a - b) <= 1e-6 * Math.Abs(b) + 1e-15;
                Expect(!Close(Yours(0), 0), $"{set}: η(0) = 0, so the first step does not move the weights; warm-up counts step 0 as the first of `warmup` steps.");
                Expect(Close(Yours(warmup - 1), peak), $"{set}: at the last warm-up step (step {warmup - 1}) the rate is {Yours(warmup - 1):G6}, not the peak {peak}.");
                for (int s = 0; s < warmup; s++)
                    Expect(Close(Yours(s), Reference(s, peak, floor, warmup, total)), $"{set}: during warm-up, step {s} gives {Yours(s):G6} instead of {Reference(s, peak, floor, warmup, total):G6}; the rise should be a straight line.");
                Expect(Close(Yours(warmup), peak), $"{set}: right after warm-up (step {warmup}) the rate is {Yours(warmup):G6}, not the peak {peak}: the decay's progress should start at 0 when warm-up ends.");
                Expect(!Close(Yours(total), 0) || floor == 0, $"{set}: at step {total} the rate is 0; the schedule ends at the floor, not at zero.");
                Expect(Close(Yours(total), floor), $"{set}: at step {total} the rate is {Yours(total):G6}, not the floor {floor}: the decay's progress should run from 0 at the end of warm-up to 1 at step `total`.");
                int quarter = warmup + (total - warmup) / 4;
                Expect(!(Close(Yours(warmup + 1), peak) && Close(Yours(quarter), peak) && Close(Yours(total - 1), peak)),
                    $"{set}: the rate stays at the peak {peak} from step {warmup} to step {total - 1} and only then drops: the decay's progress stays 0 until the last step. Is it computed by dividing two integers?");
                double linear = peak - (peak - floor) * (quarter - warmup) / (total - warmup);
                Expect(!Close(Yours(quarter), linear), $"{set}: the decay is a straight line; section 3's decay follows half a cosine wave.");
                for (int s = warmup; s <= total; s++)
                    Expect(Close(Yours(s), Reference(s, peak, floor, warmup, total)), $"{set}: step {s} gives {Yours(s):G6} instead of {Reference(s, peak, floor, warmup, total):G6}.");
                for (int s = total + 1; s <= total + 5; s++)
                    Expect(Close(Yours(s), floor), $"{set}: after the last step the rate should stay at the floor, but step {s} gives {Yours(s):G6}.");
            }
            return 0;
        }));

    /// <summary>
    /// Exercise 2: rescale a list of gradient tensors in place so that their global norm is at most maxNorm, and return
    /// the norm before clipping. Probed with norms above AND below the limit.
    /// </summary>
    public static Verdict ClipGlobalNorm(Func<IList<Tensor>, double, double> yours) => Check("your clipping",
        "reread section 4: one length for all the tensors together, one common factor for all of them, and when should clipping leave the gradients alone?",
        () =>
        {
            using var generator = new Generator(5);
            long[][] shapes = [[4, 3], [7], [2, 2, 2]];
            foreach (var (scale, maxNorm) in new[] { (3.0, 1.0), (0.05, 1.0), (2.0, 5.0) })
            {
                var original = shapes.Select(s => randn(s, generator: generator) * scale).ToList();
                double norm = Math.Sqrt(original.Sum(g => g.pow(2).sum().item<float>()));
                double factor = Math.Min(1, maxNorm / norm);
                var grads = original.Select(g => g.clone()).ToList();
                var passed = grads.ToArray();   // the tensors handed over: in real training these are the parameters' .grad
                double returned = yours(grads, maxNorm);
                string where = $"(norm {norm:0.###}, maxNorm {maxNorm})";
                Expect(grads.Count == passed.Length, $"{where}: the list now holds {grads.Count} tensors instead of {passed.Length}; scale the tensors, do not add or remove any.");
                bool replaced = grads.Zip(passed).Any(p => !ReferenceEquals(p.First, p.Second) && !Same(p.First, p.Second, 0));
                bool unchanged = passed.Zip(original).All(p => Same(p.First, p.Second, 1e-6));
                bool scaledRight = passed.Zip(original).All(p => Same(p.First, p.Second * factor, 1e-5));
                bool listScaledRight = grads.Zip(original).All(p => Same(p.First, p.Second * factor, 1e-5));
                Expect(!(replaced && factor < 1 && unchanged && listScaledRight),
                    $"{where}: you replaced the tensors in the list with new, scaled ones; the tensors you were given (a model's gradients) are untouched. Scale them in place.");
                if (factor < 1)
                {
                    Expect(!unchanged, $"{where}: the gradients are unchanged although their norm is above the limit; scale the tensors you were given, in place.");
                    var perTensor = original.Select(g => { double n = g.norm().item<float>(); return g * Math.Min(1, maxNorm / n); }).ToList();
                    Expect(!grads.Zip(perTensor).All(p => Same(p.First, p.Second, 1e-5)), $"{where}: each tensor was clipped on its own; clipping uses one norm over all tensors together.");
                    Expect(scaledRight, $"{where}: after clipping the gradients are not the originals times one common factor, so their direction changed or the length is not maxNorm.");
                }
                else
                {
                    Expect(scaledRight, $"{where}: the norm is already below the limit, yet the gradients were changed: clipping must leave short gradients alone.");
                }
                Expect(Math.Abs(returned - norm) <= 1e-4 * Math.Max(1, norm),
                    Math.Abs(returned - norm * factor) <= 1e-4 * Math.Max(1, norm) && factor < 1
                        ? $"{where}: it returns {returned:0.###}, the norm after clipping; return the norm before clipping (what a training log records)."
                        : $"{where}: it returns {returned:0.###} instead of the global norm before clipping, {norm:0.###}.");
            }
        });
}
