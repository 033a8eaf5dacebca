namespace TransformerCourse.Gpt;

/// <summary>The shape of a GPT-style decoder.</summary>
/// <param name="UseFusedAttention">TorchSharp's fused scaled_dot_product_attention (fast) or the course's
/// from-scratch ScaledDotProductAttention (for teaching); both give the same numbers.</param>
/// <param name="TiedHead">The output layer reuses the token embedding matrix (weight tying, the default, as in GPT-1/2/3);
/// false gives the model its own V × d output matrix (no bias), for comparing the two.</param>
public sealed record GptConfig(int VocabSize, int ContextLength, int Layers, int Heads, int Width, double Dropout = 0.0, bool UseFusedAttention = true,
    bool TiedHead = true)
{
    public int HeadWidth => Width / Heads;

    /// <summary>Throws ArgumentException naming the field when the configuration cannot be built.</summary>
    public GptConfig Validated()
    {
        Require(VocabSize > 0, nameof(VocabSize), $"must be positive but is {VocabSize}");
        Require(ContextLength > 0, nameof(ContextLength), $"must be positive but is {ContextLength}");
        Require(Layers > 0, nameof(Layers), $"must be positive but is {Layers}");
        Require(Heads > 0, nameof(Heads), $"must be positive but is {Heads}");
        Require(Width > 0 && Width % Heads == 0, nameof(Width), $"({Width}) must be a positive multiple of Heads ({Heads})");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), $"must be in [0, 1) but is {Dropout}");
        return this;
    }

    static void Require(bool ok, string name, string message)
    {
        if (!ok) throw new ArgumentException($"GptConfig.{name} {message}.", name);
    }
}
