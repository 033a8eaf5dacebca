using TorchSharp;
using TransformerCourse.Generation;
using TransformerCourse.Gpt;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>
/// A batch of rollouts as PPO sees it: the sampled tokens (B, P + C), the log-probs of the sampled completion tokens
/// under the policy that sampled them (π_old) and under the reference, the reward model's scores, the per-token
/// KL-penalised rewards and the advantages, all fixed once collected.
/// </summary>
public sealed record PpoBatch(Tensor Tokens, int PromptLength, Continuation[] Samples, Tensor OldLogProbs, Tensor ReferenceLogProbs,
    Tensor Scores, Tensor Rewards, Tensor Advantages, double Beta);

/// <summary>Collecting rollouts and running PPO's inner update on them (no value network, no outer loop).</summary>
public static class PpoRollouts
{
    public static PpoBatch Collect(GptModel policy, GptModel reference, RewardModel rewardModel, IReadOnlyList<long[]> prompts,
        int completionLength, double beta, long seed)
    {
        var samples = PreferenceData.Sample(policy, prompts, completionLength, seed);
        int p = prompts[0].Length;
        var device = policy.parameters().First().device;
        var tokens = tensor(samples.SelectMany(s => s.Prompt.Concat(s.Tokens)).ToArray(), [samples.Length, p + completionLength], device: device);
        using var noGrad = no_grad();
        policy.eval();
        reference.eval();
        rewardModel.eval();
        var old = SequenceLogProbs.PerToken(policy, tokens, p);
        var referenceLogProbs = SequenceLogProbs.PerToken(reference, tokens, p);
        var scores = rewardModel.forward(tokens);
        var rewards = Ppo.KlPenalisedRewards(old, referenceLogProbs, scores, beta);
        return new PpoBatch(tokens, p, samples, old, referenceLogProbs, scores, rewards, Ppo.Advantages(rewards), beta);
    }

    /// <summary>
    /// PPO's inner loop on one batch: <paramref name="steps"/> AdamW steps that maximise the clipped objective (the loss is
    /// its negative), through <see cref="TrainingLoop{TBatch}"/>. Each step records "objective", "clipped" (share of
    /// clipped tokens) and "ratio" (mean r_t).
    /// </summary>
    public static IReadOnlyList<TrainingStep> Update(GptModel policy, PpoBatch batch, int steps, double learningRate, double epsilon = 0.2)
    {
        using var optimizer = optim.AdamW(policy.parameters(), lr: learningRate, weight_decay: 0.0);
        var loop = new TrainingLoop<PpoBatch>(policy, optimizer, () => batch,
            loss: b =>
            {
                var terms = Ppo.Objective(SequenceLogProbs.PerToken(policy, b.Tokens, b.PromptLength), b.OldLogProbs, b.Advantages, epsilon);
                return new BatchLoss(-terms.Objective, new Dictionary<string, Tensor>
                {
                    ["objective"] = terms.Objective.detach(),
                    ["clipped"] = tensor(terms.ClippedShare),
                    ["ratio"] = terms.Ratio.mean().detach(),
                });
            },
            new TrainingLoopOptions(steps, GradientClip: 1.0));
        loop.Run();
        policy.eval();
        return loop.History;
    }
}
