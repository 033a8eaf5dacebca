using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>Settings the capstone applies to the device it trains or samples on, the same in the notebooks and the CLI.</summary>
public static class DeviceSettings
{
    /// <summary>
    /// On CUDA, lets fp32 matrix products use TF32 tensor cores (10-bit mantissa inputs, fp32 accumulation), as nanoGPT
    /// does; on the CPU it changes nothing. Returns whether TF32 is now on for <paramref name="device"/>.
    /// </summary>
    public static bool EnableTf32(Device device)
    {
        if (device.type != DeviceType.CUDA) return false;
        torch.backends.cuda.matmul.allow_tf32 = true;
        return torch.backends.cuda.matmul.allow_tf32;
    }
}
