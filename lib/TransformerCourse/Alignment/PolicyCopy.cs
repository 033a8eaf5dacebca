using TorchSharp;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Alignment;

/// <summary>Copies of a policy: the trainable one that alignment starts from, and the frozen reference.</summary>
public static class PolicyCopy
{
    /// <summary>A new <see cref="GptModel"/> with the same configuration and weights, on the same device. A frozen copy
    /// has no parameter that requires a gradient and stays in eval mode.</summary>
    public static GptModel Of(GptModel source, bool frozen = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        var copy = new GptModel(source.Config);
        copy.to(source.parameters().First().device);
        using (no_grad())
        {
            var from = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in copy.named_parameters()) p.copy_(from[name]);
        }
        if (frozen)
        {
            foreach (var p in copy.parameters()) p.requires_grad = false;
            copy.eval();
        }
        return copy;
    }
}
