using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Models;

/// <summary>An Elman RNN written as the explicit loop it is: step t needs the state of step t−1.</summary>
public static class RecurrentLoop
{
    /// <param name="inputs">(batch, L, d)</param>
    /// <param name="inputWeights">(d, h)</param>
    /// <param name="stateWeights">(h, h)</param>
    /// <returns>All states (batch, L, h).</returns>
    public static Tensor Run(Tensor inputs, Tensor inputWeights, Tensor stateWeights)
    {
        Guard.RankExactly(inputs, 3, nameof(inputs), "batch, L, d");
        if (inputWeights.shape[0] != inputs.shape[2] || inputWeights.shape[1] != stateWeights.shape[0] || stateWeights.shape[0] != stateWeights.shape[1])
            throw new ArgumentException(
                $"Weights do not fit: inputs {Guard.Shape(inputs)}, inputWeights {Guard.Shape(inputWeights)} (want [d, h]), stateWeights {Guard.Shape(stateWeights)} (want [h, h]).",
                nameof(inputWeights));
        using var scope = NewDisposeScope();
        var projected = inputs.matmul(inputWeights); // the part that can be done for all steps at once
        var state = zeros(inputs.shape[0], stateWeights.shape[0], device: inputs.device);
        var states = new List<Tensor>();
        for (long t = 0; t < inputs.shape[1]; t++)
        {
            state = (projected.select(1, t) + state.matmul(stateWeights)).tanh();
            states.Add(state);
        }
        return stack(states, 1).MoveToOuterDisposeScope();
    }
}
