namespace TransformerCourse.Gpt;

/// <summary>Everything that defines one training run of the capstone's character GPT.</summary>
public sealed record TrainingRecipe(
    string Name,
    int Layers, int Heads, int Width, int ContextLength, int BatchSize, int Steps, double Dropout,
    double LearningRate = 1e-3, double MinLearningRate = 1e-4, double Beta1 = 0.9, double Beta2 = 0.99,
    double WeightDecay = 0.1, int WarmupSteps = 100, double GradientClip = 1.0,
    int EvalInterval = 250, int EvalBatches = 20, int Seed = 1337)
{
    /// <summary>
    /// Small enough for a laptop CPU: 4 layers, 4 heads, width 128, context 64, batch 12, 2000 steps, no dropout
    /// (the CPU settings of Karpathy's nanoGPT Shakespeare-char example).
    /// </summary>
    public static TrainingRecipe Cpu { get; } = new("cpu", Layers: 4, Heads: 4, Width: 128, ContextLength: 64, BatchSize: 12, Steps: 2000, Dropout: 0.0);

    /// <summary>
    /// The GPU run of the same example (nanoGPT's config/train_shakespeare_char.py): 6 layers, 6 heads, width 384,
    /// context 256, batch 64, 5000 steps, dropout 0.2, each evaluation on 200 batches per split.
    /// </summary>
    public static TrainingRecipe Gpu { get; } = new("gpu", Layers: 6, Heads: 6, Width: 384, ContextLength: 256, BatchSize: 64, Steps: 5000, Dropout: 0.2, EvalBatches: 200);

    public static TrainingRecipe Named(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => Cpu,
        "gpu" => Gpu,
        _ => throw new ArgumentException($"Unknown recipe '{name}'; use 'cpu' or 'gpu'.", nameof(name)),
    };

    public GptConfig ModelConfig(int vocabSize) => new GptConfig(vocabSize, ContextLength, Layers, Heads, Width, Dropout).Validated();
}
