using TransformerCourse.Runtime;

namespace TransformerCourse.Tests.Library;

/// <summary>Base for tests that touch tensors: loads the natives first, as notebooks do.</summary>
public abstract class TorchTest
{
    protected TorchTest()
    {
        TorchRuntime.EnsureLoaded();
        TorchSharp.torch.manual_seed(1234);
    }
}
