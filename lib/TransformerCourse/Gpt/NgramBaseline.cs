using TorchSharp;
using static TorchSharp.torch;

namespace TransformerCourse.Gpt;

/// <summary>
/// The two simplest language models of a token stream, as baselines for a trained model's loss: a unigram model
/// (how often each token occurs) and a bigram model (how often each token follows each other token). Both are
/// counted on the training tokens with add-one (Laplace) smoothing, so an unseen pair still gets a probability,
/// and scored as the mean cross-entropy, in nats per token, on the validation tokens.
/// </summary>
public static class NgramBaseline
{
    /// <summary>−mean ln p(t) over the validation tokens, with p from training counts + 1.</summary>
    public static double Unigram(Tensor train, Tensor validation, int vocabSize)
    {
        Validate(train, validation, vocabSize, minimumValidation: 1);
        using var scope = NewDisposeScope();
        var counts = train.bincount(null, minlength: vocabSize).to_type(ScalarType.Float64) + 1;
        var logP = (counts / counts.sum()).log();
        return -logP[validation].mean().item<double>();
    }

    /// <summary>−mean ln p(t_i | t_{i−1}) over the validation tokens' N − 1 transitions, with p from training pair counts + 1.</summary>
    public static double Bigram(Tensor train, Tensor validation, int vocabSize)
    {
        Validate(train, validation, vocabSize, minimumValidation: 2);
        using var scope = NewDisposeScope();
        var pairs = train[..^1] * vocabSize + train[1..];
        var counts = pairs.bincount(null, minlength: vocabSize * vocabSize).to_type(ScalarType.Float64).view(vocabSize, vocabSize) + 1;
        var logP = (counts / counts.sum(1, keepdim: true)).log();
        return -logP[validation[..^1], validation[1..]].mean().item<double>();
    }

    static void Validate(Tensor train, Tensor validation, int vocabSize, int minimumValidation)
    {
        if (vocabSize <= 0) throw new ArgumentException($"vocabSize must be positive but is {vocabSize}.", nameof(vocabSize));
        foreach (var (t, name, minimum) in new[] { (train, nameof(train), 2), (validation, nameof(validation), minimumValidation) })
        {
            if (t.dim() != 1 || t.dtype != ScalarType.Int64)
                throw new ArgumentException($"{name} must be a 1-D int64 tensor of token ids but is {t.dtype} with shape {Guard.Shape(t)}.", name);
            if (t.shape[0] < minimum) throw new ArgumentException($"{name} needs at least {minimum} tokens but has {t.shape[0]}.", name);
            long min = t.min().item<long>(), max = t.max().item<long>();
            if (min < 0 || max >= vocabSize)
                throw new ArgumentException($"{name} holds token ids from {min} to {max}, outside 0 … {vocabSize - 1} (vocabSize {vocabSize}).", name);
        }
    }
}
