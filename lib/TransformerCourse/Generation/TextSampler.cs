using TorchSharp;
using TransformerCourse.Gpt;
using static TorchSharp.torch;

namespace TransformerCourse.Generation;

/// <summary>How to turn logits into the next token.</summary>
/// <param name="Temperature">Divides the logits: below 1 sharpens, above 1 flattens; 0 means greedy.</param>
/// <param name="TopK">Keep only the k most likely tokens (null: all).</param>
public sealed record SamplingOptions(double Temperature = 1.0, int? TopK = null)
{
    public SamplingOptions Validated()
    {
        if (Temperature < 0 || double.IsNaN(Temperature))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be 0 (greedy) or positive.");
        if (TopK is <= 0)
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be positive (or null for no limit).");
        return this;
    }
}

/// <summary>Autoregressive generation from a <see cref="GptModel"/>, with or without a KV cache.</summary>
public static class TextSampler
{
    /// <summary>Picks the next token from logits (vocab) or (batch, vocab).</summary>
    public static Tensor NextToken(Tensor logits, SamplingOptions options, Generator? generator = null)
    {
        options.Validated();
        using var scope = NewDisposeScope();
        var last = logits.dim() == 1 ? logits.unsqueeze(0) : logits;
        if (options.Temperature == 0) return last.argmax(-1, keepdim: true).MoveToOuterDisposeScope();
        var scaled = last / options.Temperature;
        if (options.TopK is int k && k < scaled.shape[^1])
        {
            var (values, _) = scaled.topk(k);
            scaled = scaled.masked_fill(scaled < values[.., ^1..], double.NegativeInfinity);
        }
        return scaled.softmax(-1).multinomial(1, false, generator).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Appends <paramref name="count"/> tokens to <paramref name="prompt"/> (1-D token ids). With
    /// <paramref name="useCache"/> each step feeds only the newest token and reuses the keys and values of
    /// the earlier ones; when the context is full the window slides and the cache is rebuilt.
    /// </summary>
    public static long[] Generate(GptModel model, long[] prompt, int count, SamplingOptions options, Generator? generator = null, bool useCache = true)
    {
        Exercises.RebuiltRoutines.Enter("TextSampler.Generate");
        if (prompt.Length == 0) throw new ArgumentException("prompt must contain at least one token.", nameof(prompt));
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be non-negative.");
        options.Validated();
        var device = model.parameters().First().device;
        var tokens = new List<long>(prompt);
        int context = model.Config.ContextLength;
        model.eval();
        using var noGrad = no_grad();
        KvCache? cache = null;
        try
        {
            for (int i = 0; i < count; i++)
            {
                using var scope = NewDisposeScope();
                Tensor logits;
                if (useCache && cache is not null && cache.Length < context)
                {
                    logits = model.Forward(tensor(new[] { tokens[^1] }, device: device).unsqueeze(0), cache);
                }
                else
                {
                    var window = tokens.Skip(Math.Max(0, tokens.Count - context)).ToArray();
                    if (useCache)
                    {
                        cache?.Dispose();
                        cache = new KvCache(model.Config.Layers);
                    }
                    logits = model.Forward(tensor(window, device: device).unsqueeze(0), useCache ? cache : null);
                }
                var next = NextToken(logits[0, -1], options, generator);
                tokens.Add(next.item<long>());
            }
        }
        finally
        {
            cache?.Dispose();
        }
        return tokens.ToArray();
    }
}
