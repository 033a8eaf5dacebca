using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Data;

/// <summary>
/// A token stream split into training and validation parts (first 90 % / last 10 %), with seeded random
/// batches of (input, next-token target) windows.
/// </summary>
public sealed class TokenCorpus : IDisposable
{
    public TokenCorpus(long[] tokens, double trainFraction = 0.9)
    {
        if (trainFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "trainFraction must be between 0 and 1.");
        var cut = (int)(tokens.Length * trainFraction);
        Train = tensor(tokens[..cut]);
        Validation = tensor(tokens[cut..]);
    }

    public Tensor Train { get; }
    public Tensor Validation { get; }

    /// <summary>Inputs (batch, context) and targets shifted by one, drawn with <paramref name="generator"/>.</summary>
    public (Tensor Inputs, Tensor Targets) Batch(bool validation, int batchSize, int contextLength, Generator generator, Device? device = null)
    {
        var data = validation ? Validation : Train;
        if (data.shape[0] <= contextLength)
            throw new ArgumentException($"contextLength {contextLength} needs more than {data.shape[0]} tokens in the {(validation ? "validation" : "training")} split.", nameof(contextLength));
        using var scope = NewDisposeScope();
        var starts = randint(0, data.shape[0] - contextLength, [batchSize], generator: generator);
        var offsets = arange(contextLength + 1).unsqueeze(0);
        var windows = data[starts.unsqueeze(1) + offsets];
        var inputs = windows[.., ..contextLength];
        var targets = windows[.., 1..];
        if (device is not null && device.type != DeviceType.CPU) (inputs, targets) = (inputs.to(device), targets.to(device));
        return (inputs.MoveToOuterDisposeScope(), targets.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
    }
}
