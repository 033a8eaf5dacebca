namespace TransformerCourse.Training;

/// <summary>Linear warm-up to the peak rate, then a cosine decay to the floor at the last step.</summary>
public sealed record WarmupCosineSchedule(double Peak, double Floor, int WarmupSteps, int TotalSteps)
{
    /// <summary>Learning rate for a 0-based step.</summary>
    public double At(int step)
    {
        Exercises.RebuiltRoutines.Enter("WarmupCosineSchedule.At");
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be non-negative.");
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        if (step >= TotalSteps) return Floor;
        var progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return Floor + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (Peak - Floor);
    }
}
