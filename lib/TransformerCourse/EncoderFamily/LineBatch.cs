using TorchSharp;
using TransformerCourse.Tokenization;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>Single lines as one padded batch: [CLS] line [SEP] [PAD]…, with the attention mask (true for real tokens)
/// and all-zero segments. Lines longer than <c>maxLength</c> − 2 tokens are cut.</summary>
public sealed record LineBatch(Tensor Ids, Tensor Segments, Tensor AttentionMask, List<int[]> Tokens)
{
    public static LineBatch Encode(BytePairEncoder tokenizer, IReadOnlyList<string> lines, int maxLength, Device? device = null)
    {
        if (lines.Count == 0) throw new ArgumentException("lines is empty.", nameof(lines));
        if (maxLength < 3) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must leave room for [CLS], [SEP] and a token (≥ 3).");
        int cls = tokenizer.SpecialId("[CLS]"), sep = tokenizer.SpecialId("[SEP]"), pad = tokenizer.SpecialId("[PAD]");
        var tokens = lines.Select(l => new[] { cls }.Concat(tokenizer.Encode(l).Take(maxLength - 2)).Append(sep).ToArray()).ToList();
        int length = tokens.Max(t => t.Length);
        var ids = tokens.SelectMany(t => t.Concat(Enumerable.Repeat(pad, length - t.Length)).Select(i => (long)i)).ToArray();
        var mask = tokens.SelectMany(t => Enumerable.Range(0, length).Select(i => i < t.Length)).ToArray();
        device ??= CPU;
        return new LineBatch(tensor(ids, [lines.Count, length]).to(device), zeros([lines.Count, length], ScalarType.Int64, device),
            tensor(mask, [lines.Count, length]).to(device), tokens);
    }
}
