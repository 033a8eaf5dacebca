using TorchSharp;
using TransformerCourse.Runtime;

namespace TransformerCourse.Cli;

static class DeviceOption
{
    /// <summary>--device cpu|cuda|auto (default auto: CUDA when a GPU and a CUDA build are present).</summary>
    public static torch.Device Resolve(string? name)
    {
        TorchRuntime.EnsureLoaded();
        return (name ?? "auto").ToLowerInvariant() switch
        {
            "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
            "cpu" => torch.CPU,
            "cuda" when torch.cuda.is_available() => torch.CUDA,
            "cuda" => throw new ArgumentException(
                "--device cuda: no CUDA device is usable. Build with -p:TorchBackend=cuda (or TORCH_BACKEND=cuda) on a machine with an NVIDIA GPU.", "device"),
            var other => throw new ArgumentException($"--device must be cpu, cuda or auto, not '{other}'.", "device"),
        };
    }
}
