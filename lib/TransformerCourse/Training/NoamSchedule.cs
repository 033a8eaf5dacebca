namespace TransformerCourse.Training;

/// <summary>
/// The warm-up schedule of Vaswani et al. (2017, §5.3), often called "Noam":
/// lr(step) = factor · d_model^−0.5 · min(step^−0.5, step · warmup^−1.5). It rises linearly for
/// <see cref="WarmupSteps"/> steps, peaks at step = warmup with factor · (d_model · warmup)^−0.5, then decays as
/// 1/√step. The paper uses factor 1, warmup 4000. Steps count from 1.
/// </summary>
public sealed record NoamSchedule(int Width, int WarmupSteps, double Factor = 1.0)
{
    /// <summary>Learning rate for a 1-based step.</summary>
    public double At(int step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "step counts from 1.");
        if (Width <= 0 || WarmupSteps <= 0)
            throw new ArgumentException($"Width ({Width}) and WarmupSteps ({WarmupSteps}) must be positive.", nameof(WarmupSteps));
        return Factor * Math.Pow(Width, -0.5) * Math.Min(Math.Pow(step, -0.5), step * Math.Pow(WarmupSteps, -1.5));
    }

    /// <summary>The largest rate, reached at step = warmup.</summary>
    public double Peak => At(WarmupSteps);
}
