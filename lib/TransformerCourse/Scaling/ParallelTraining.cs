namespace TransformerCourse.Scaling;

/// <summary>
/// Closed forms for spreading training over many GPUs, as in the ZeRO paper (Rajbhandari et al., 2020) and GPipe
/// (Huang et al., 2019). Mixed-precision Adam keeps 16 bytes per parameter: fp16 weights (2) and gradients (2), and an
/// fp32 master copy, momentum and variance (4 + 4 + 4 = 12, the "K = 12" of the ZeRO paper).
/// </summary>
public static class ParallelTraining
{
    /// <summary>Bytes of model state per GPU for a model of <paramref name="parameters"/> over <paramref name="gpus"/> data-parallel GPUs.
    /// Stage 0 is plain data parallelism (PyTorch DDP: every GPU holds everything); stage 1 shards the optimizer states,
    /// stage 2 also the gradients, stage 3 also the weights (PyTorch FSDP's full sharding).</summary>
    public static double ModelStateBytesPerGpu(double parameters, int gpus, int zeroStage)
    {
        Guard.Positive(parameters, nameof(parameters));
        Guard.Positive(gpus, nameof(gpus));
        const double weights = 2, gradients = 2, optimizer = 12;
        return zeroStage switch
        {
            0 => parameters * (weights + gradients + optimizer),
            1 => parameters * (weights + gradients + optimizer / gpus),
            2 => parameters * (weights + (gradients + optimizer) / gpus),
            3 => parameters * (weights + gradients + optimizer) / gpus,
            _ => throw new ArgumentOutOfRangeException(nameof(zeroStage), zeroStage, "zeroStage must be 0 (plain data parallel), 1, 2 or 3."),
        };
    }

    /// <summary>The idle share of a pipeline of <paramref name="stages"/> GPUs fed <paramref name="microBatches"/> micro-batches
    /// per step (GPipe's schedule): (p − 1) / (m + p − 1).</summary>
    public static double PipelineBubble(int stages, int microBatches)
    {
        Guard.Positive(stages, nameof(stages));
        Guard.Positive(microBatches, nameof(microBatches));
        return (stages - 1.0) / (microBatches + stages - 1.0);
    }
}
