using TorchSharp;
using TransformerCourse.Attention;
using TransformerCourse.Transformer;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 10 (The Encoder–Decoder Transformer).</summary>
public static class Lesson10
{
    // Post-LN, shared embeddings, ReLU or GELU; widths, vocabularies and layer counts the lesson never uses, with
    // different numbers of encoder and decoder layers so that a swap shows.
    static readonly TransformerConfig[] CountCases =
    [
        new(53, Width: 12, Heads: 3, FeedForwardWidth: 44, EncoderLayers: 1, DecoderLayers: 3),
        new(118, Width: 20, Heads: 4, FeedForwardWidth: 70, EncoderLayers: 3, DecoderLayers: 2, FeedForward: FeedForwardKind.Gelu),
        new(9, Width: 8, Heads: 2, FeedForwardWidth: 8, EncoderLayers: 2, DecoderLayers: 1),
    ];

    /// <summary>Exercise 1: the parameter count of <c>EncoderDecoderTransformer(config)</c> (Post-LN, ReLU/GELU, shared embeddings) in closed form.</summary>
    public static Verdict ParameterCount(Func<TransformerConfig, long> yours) => Check("your MyParameterCount",
        "go back to \"The decoder block\" and list its sub-layers next to the encoder block's: each sub-layer brings its own weights and its own LayerNorm. The embedding table is shared, so it counts once.",
        () =>
        {
            static long Module(TransformerConfig c)
            {
                using var model = new EncoderDecoderTransformer(c);
                return model.parameters().Sum(p => p.NumberOfElements);
            }
            long Yours(TransformerConfig c) => Forbidding(
                ["EncoderDecoderTransformer.ClosedFormParameterCount", "EncoderDecoderTransformer.ParameterCount", "DecoderBlock.ParameterCount"],
                () => yours(c));
            foreach (var c in CountCases)
            {
                long want = Module(c), got = Yours(c);
                if (got == want) continue;
                string where = $"for V = {c.VocabSize}, d = {c.Width}, d_ff = {c.FeedForwardWidth}, {c.EncoderLayers} encoder and {c.DecoderLayers} decoder layers";
                // Change one knob at a time and compare what each adds, in the model and in your formula.
                (string Knob, TransformerConfig Next)[] knobs =
                [
                    ("vocabulary entry", c with { VocabSize = c.VocabSize + 1 }),
                    ("encoder layer", c with { EncoderLayers = c.EncoderLayers + 1 }),
                    ("decoder layer", c with { DecoderLayers = c.DecoderLayers + 1 }),
                ];
                foreach (var (knob, next) in knobs)
                {
                    long modelAdds = Module(next) - want, yoursAdds = Yours(next) - got;
                    if (knob == "vocabulary entry")
                        Expect(yoursAdds == modelAdds, yoursAdds == 3 * modelAdds
                            ? "each extra vocabulary entry adds three rows in your count: the model shares one embedding matrix between the source, the target and the output layer."
                            : $"one more vocabulary entry adds {yoursAdds:N0} parameters in your count and {modelAdds:N0} in the model.");
                    else if (knob == "decoder layer")
                        Expect(yoursAdds == modelAdds, yoursAdds == 0
                            ? "the decoder layers are missing from your count."
                            : yoursAdds == Module(c with { EncoderLayers = c.EncoderLayers + 1 }) - want
                                ? "your decoder block has the size of an encoder block: the cross-attention and its LayerNorm are missing."
                                : modelAdds - yoursAdds == 2L * c.Width
                                    ? "each decoder block is 2d short: one LayerNorm (γ and β) is missing — there is one per sub-layer."
                                    : $"one more decoder layer adds {yoursAdds:N0} parameters in your count and {modelAdds:N0} in the model.");
                    else
                        Expect(yoursAdds == modelAdds, $"one more encoder layer adds {yoursAdds:N0} parameters in your count and {modelAdds:N0} in the model.");
                }
                Expect(false, $"{where} your count is {got:N0}, the model has {want:N0}: every layer adds the right amount, so a fixed part (the embedding or something you add once) is off by {got - want:N0}.");
            }
        });

    /// <summary>Exercise 2: (B, L_t) ids → the (B, L_t, L_t) boolean decoder self-attention mask (causal and key not padding).</summary>
    public static Verdict TargetMask(Func<Tensor, long, Tensor> yours) => Check("your MyTargetMask",
        "revisit the decoder block's masked self-attention and Lesson 4: a key is hidden for two different reasons — it lies in the query's future, or it is padding — and either one is enough to hide it.",
        () =>
        {
            // Padding at the end, at the start (left-padded) and none; a pad id that is not 0.
            var cases = new (long[] Ids, long Rows, long Pad)[]
            {
                ([4, 9, 6, 2, 0, 0, 5, 3, 0, 0, 0, 0, 7, 7, 7, 7, 7, 2], 3, 0),
                ([1, 1, 8, 5, 6, 1, 1, 1, 9, 4, 8, 6, 2, 3, 5], 3, 1),
            };
            foreach (var (ids, rows, pad) in cases)
            {
                var target = tensor(ids, [rows, ids.Length / rows]);
                long b = target.shape[0], l = target.shape[1];
                var want = Masks.Causal(l).unsqueeze(0).logical_and(target.ne(pad).unsqueeze(1));
                var mask = Forbidding(["Seq2SeqMasks.Target"], () => yours(target.clone(), pad));
                mask = ExpectShape(mask, [b, l, l], $"MyTargetMask(ids {Guard.Shape(target)}, pad {pad})");
                Expect(mask.dtype == ScalarType.Bool, $"it returns {mask.dtype} values; a mask here is boolean (true = may attend).");
                if (mask.eq(want).all().item<bool>()) continue;
                Expect(!mask.triu(1).any().item<bool>(), "some queries may attend to keys in their future: the causal part is missing or turned the wrong way.");
                Expect(!mask.eq(Masks.Causal(l).unsqueeze(0).logical_and(target.ne(pad).unsqueeze(2))).all().item<bool>(),
                    "it hides the padding *queries* (rows) instead of the padding *keys* (columns): a real token can then still attend to padding before it (left padding).");
                var paddingKey = target.eq(pad).unsqueeze(1).expand(b, l, l);
                Expect(!mask.logical_and(paddingKey).any().item<bool>(), $"with pad id {pad}, some queries may still attend to padding keys: the padding condition is missing.");
                Expect(false, $"on ids {Guard.Shape(target)} with pad id {pad} it hides keys that a query should see: key j is visible to query i when j ≤ i and token j is not padding.");
            }
        });
}
