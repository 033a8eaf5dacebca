using System.Diagnostics;
using TorchSharp;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>How DPO trains: β, steps, pairs per batch, AdamW's rate, how often to evaluate on held-out pairs, the batch seed.</summary>
public sealed record DpoOptions(double Beta = 0.1, int Steps = 150, int BatchSize = 32, double LearningRate = 3e-4, int EvalInterval = 15, int Seed = 21);

/// <summary>DPO on held-out pairs at one step: loss, mean implicit reward margin, share of pairs with a positive margin,
/// and the mean over completions of KL(π ‖ π_ref) summed over their positions.</summary>
public sealed record DpoEval(int Step, double Loss, double Margin, double Accuracy, double Kl);

/// <summary>What <see cref="DpoTrainer.Train"/> measured. Each training step records "margin", "kl" and "accuracy" on its batch.</summary>
public sealed record DpoRun(IReadOnlyList<TrainingStep> History, IReadOnlyList<DpoEval> Evals, double Seconds)
{
    public DpoEval Initial => Evals[0];
    public DpoEval Final => Evals[^1];
}

/// <summary>
/// Direct Preference Optimisation of a <see cref="GptModel"/> against a frozen reference through the course's
/// <see cref="TrainingLoop{TBatch}"/>. The reference's sequence log-probabilities and next-token distributions are
/// computed once, before training (they never change).
/// </summary>
public static class DpoTrainer
{
    sealed class Reference(Tensor chosen, Tensor rejected, Tensor logSoftmax)
    {
        public Tensor Chosen { get; } = chosen;
        public Tensor Rejected { get; } = rejected;
        public Tensor LogSoftmax { get; } = logSoftmax;   // (2N, C, V): chosen rows, then rejected rows
    }

    public static DpoRun Train(GptModel policy, GptModel reference, PreferenceSet train, PreferenceSet heldOut, DpoOptions options, Device device)
    {
        Guard.Positive(options.Beta, nameof(options.Beta));
        var watch = Stopwatch.StartNew();
        var (chosen, rejected) = (train.Chosen.to(device), train.Rejected.to(device));
        var (heldChosen, heldRejected) = (heldOut.Chosen.to(device), heldOut.Rejected.to(device));
        int p = train.PromptLength;
        var refTrain = Precompute(reference, chosen, rejected, p);
        var refHeld = Precompute(reference, heldChosen, heldRejected, p);
        var evals = new List<DpoEval>();
        void Evaluate(int step)
        {
            var (terms, kl) = Terms(policy, heldChosen, heldRejected, refHeld, null, p, options.Beta);
            evals.Add(new DpoEval(step, terms.Loss.item<float>(), terms.Margins.mean().item<float>(),
                (terms.Margins > 0).to_type(ScalarType.Float64).mean().item<double>(), kl.mean().item<float>()));
        }
        using (no_grad()) Evaluate(0);
        var generator = new Generator((ulong)options.Seed);
        using var optimizer = optim.AdamW(policy.parameters(), lr: options.LearningRate, weight_decay: 0.0);
        var loop = new TrainingLoop<Tensor>(policy, optimizer,
            nextBatch: () => randint(0, train.Count, [options.BatchSize], generator: generator).to(device),
            loss: index =>
            {
                var (terms, kl) = Terms(policy, chosen[index], rejected[index], refTrain, index, p, options.Beta);
                return new BatchLoss(terms.Loss, new Dictionary<string, Tensor>
                {
                    ["margin"] = terms.Margins.mean().detach(),
                    ["kl"] = kl.mean().detach(),
                    ["accuracy"] = (terms.Margins > 0).to_type(ScalarType.Float32).mean(),
                });
            },
            new TrainingLoopOptions(options.Steps, GradientClip: 1.0, EvalInterval: options.EvalInterval),
            evaluate: Evaluate);
        loop.Run();
        policy.eval();
        return new DpoRun(loop.History, evals, watch.Elapsed.TotalSeconds);
    }

    static Reference Precompute(GptModel reference, Tensor chosen, Tensor rejected, int promptLength)
    {
        using var noGrad = no_grad();
        reference.eval();
        var both = cat([chosen, rejected], 0);
        var logSoftmax = SequenceLogProbs.CompletionLogSoftmax(reference, both, promptLength);
        var sequence = logSoftmax.gather(-1, both[.., promptLength..].unsqueeze(-1)).squeeze(-1).sum(1);
        long n = chosen.shape[0];
        return new Reference(sequence[..(int)n], sequence[(int)n..], logSoftmax);
    }

    /// <summary>DPO terms and per-sequence KL for a batch; <paramref name="index"/> selects the reference rows (null: all).</summary>
    static (DpoTerms Terms, Tensor Kl) Terms(GptModel policy, Tensor chosen, Tensor rejected, Reference reference, Tensor? index, int promptLength, double beta)
    {
        long n = chosen.shape[0];
        var both = cat([chosen, rejected], 0);
        var logSoftmax = SequenceLogProbs.CompletionLogSoftmax(policy, both, promptLength);
        var sequence = logSoftmax.gather(-1, both[.., promptLength..].unsqueeze(-1)).squeeze(-1).sum(1);
        var (refChosen, refRejected, refLogSoftmax) = index is null
            ? (reference.Chosen, reference.Rejected, reference.LogSoftmax)
            : (reference.Chosen[index], reference.Rejected[index], reference.LogSoftmax[cat([index, index + reference.Chosen.shape[0]], 0)]);
        var terms = Dpo.Compute(sequence[..(int)n], sequence[(int)n..], refChosen, refRejected, beta);
        var kl = SequenceLogProbs.TokenKl(logSoftmax.detach(), refLogSoftmax);
        return (terms, kl);
    }
}
