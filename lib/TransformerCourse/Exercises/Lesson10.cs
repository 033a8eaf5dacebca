using TorchSharp;
using TransformerCourse.Attention;
using TransformerCourse.Transformer;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 10 (The Encoder–Decoder Transformer).</summary>
public static class Lesson10
{
    // Pre-LN (so each stack ends in a final LayerNorm), ReLU or GELU, shared and separate embeddings; widths,
    // vocabularies and layer counts the lesson never uses, with different numbers of encoder and decoder layers so
    // that a swap shows.
    static readonly TransformerConfig[] CountCases =
    [
        new(53, Width: 12, Heads: 3, FeedForwardWidth: 44, EncoderLayers: 1, DecoderLayers: 3, Norm: NormPlacement.Pre),
        new(118, Width: 20, Heads: 4, FeedForwardWidth: 70, EncoderLayers: 3, DecoderLayers: 2, FeedForward: FeedForwardKind.Gelu, Norm: NormPlacement.Pre, ShareEmbeddings: false),
        new(9, Width: 8, Heads: 2, FeedForwardWidth: 8, EncoderLayers: 2, DecoderLayers: 1, Norm: NormPlacement.Pre, ShareEmbeddings: false),
    ];

    static readonly string[] CountRoutines =
    [
        "EncoderDecoderTransformer.new", "EncoderDecoderTransformer.ClosedFormParameterCount", "EncoderDecoderTransformer.ParameterCount",
        "EncoderBlock.new", "EncoderBlock.ParameterCount", "DecoderBlock.new", "DecoderBlock.ParameterCount",
        "MultiHeadAttention.new", "MultiHeadAttention.ParameterCount", "PositionwiseFeedForward.new", "PositionwiseFeedForward.ParameterCount",
        "ResidualConnection.ParameterCount",
    ];

    /// <summary>Exercise 1: the parameter count of a Pre-LN <c>EncoderDecoderTransformer(config)</c> (ReLU/GELU, final
    /// LayerNorm on each stack, shared or separate embeddings) in closed form.</summary>
    public static Verdict ParameterCount(Func<TransformerConfig, long> yours) => Check("your MyParameterCount",
        "go back to \"The decoder block\" and list its sub-layers next to the encoder block's: each sub-layer brings its own weights and its own LayerNorm. Then ask what Pre-LN adds once per stack, and how many V×d matrices there are when config.ShareEmbeddings is false.",
        () =>
        {
            static long Module(TransformerConfig c)
            {
                using var model = new EncoderDecoderTransformer(c);
                return model.parameters().Sum(p => p.NumberOfElements);
            }
            long Yours(TransformerConfig c) => Forbidding(CountRoutines, () => yours(c));
            foreach (var c in CountCases)
            {
                long want = Module(c), got = Yours(c);
                if (got == want) continue;
                string where = $"for V = {c.VocabSize}, d = {c.Width}, d_ff = {c.FeedForwardWidth}, {c.EncoderLayers} encoder and {c.DecoderLayers} decoder layers, {(c.ShareEmbeddings ? "shared" : "separate")} embeddings";
                long encoderAdds = Module(c with { EncoderLayers = c.EncoderLayers + 1 }) - want, decoderAdds = Module(c with { DecoderLayers = c.DecoderLayers + 1 }) - want;
                Expect(!(Yours(c with { DecoderLayers = c.DecoderLayers + 1 }) == got && Yours(c with { EncoderLayers = c.EncoderLayers + 1 }) - got == encoderAdds + decoderAdds),
                    "it uses config.EncoderLayers for both stacks: the decoder's depth is config.DecoderLayers, and here the two differ.");
                Expect(got != want - 2 * 2L * c.Width, $"{where} it is 4d short: Pre-LN puts one final LayerNorm (γ and β) after each stack.");
                Expect(got != want - 2L * c.Width, $"{where} it is 2d short: Pre-LN puts a final LayerNorm after each of the two stacks, not only one.");
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
                            ? "each extra vocabulary entry adds three rows in your count although config.ShareEmbeddings is true: the model then shares one embedding matrix between the source, the target and the output layer."
                            : 3 * yoursAdds == modelAdds
                                ? "each extra vocabulary entry adds one row in your count although config.ShareEmbeddings is false: the source, the target and the output layer then each have their own V×d matrix."
                                : $"one more vocabulary entry adds {yoursAdds:N0} parameters in your count and {modelAdds:N0} in the model.");
                    else if (knob == "decoder layer")
                        Expect(yoursAdds == modelAdds, yoursAdds == 0
                            ? "the decoder layers are missing from your count."
                            : yoursAdds == encoderAdds
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

    /// <summary>Exercise 2: source ids (B, L_s) and target ids (B, L_t) → the (B, L_t, L_s) boolean cross-attention
    /// mask (true = target position i may read source position j, i.e. source token j is not padding).</summary>
    public static Verdict CrossMask(Func<Tensor, Tensor, long, Tensor> yours) => Check("your MyCrossMask",
        "revisit \"The decoder block\": in cross-attention the queries come from the target and the keys from the source. Ask which axis is which, which of the two sequences can hide a key, and whether the decoder's left-to-right order matters for reading a source that is complete before decoding starts.",
        () =>
        {
            // Sources padded at the end, at the start (left-padded) and not at all; target lengths that differ from the
            // source lengths; targets with padding of their own; a pad id that is not 0, with a real token (id 0) below
            // it, so that "greater than the pad id" is not the same as "not the pad id".
            var cases = new (long[] Source, long[] Target, long Rows, long Pad)[]
            {
                ([4, 9, 6, 2, 0, 0, 5, 3, 0, 0, 0, 0, 7, 7, 7, 7, 7, 2], [8, 8, 3, 5, 0, 0, 6, 0, 0, 0, 4, 4], 3, 0),
                ([1, 1, 8, 5, 6, 9, 4, 0, 6, 2], [3, 5, 6, 2, 1, 1, 7, 4, 9, 2, 5, 1, 3, 3], 2, 1),
            };
            foreach (var (sourceIds, targetIds, rows, pad) in cases)
            {
                var source = tensor(sourceIds, [rows, sourceIds.Length / rows]);
                var target = tensor(targetIds, [rows, targetIds.Length / rows]);
                long b = rows, ls = source.shape[1], lt = target.shape[1];
                var want = source.ne(pad).unsqueeze(1).expand(b, lt, ls);
                var mask = Forbidding(["Seq2SeqMasks.Source", "Masks.FromPadToken"], () => yours(source.clone(), target.clone(), pad));
                Expect(mask is not null, "it returns null.");
                Expect(!mask!.shape.SequenceEqual([b, lt, lt]),
                    $"it has shape {Guard.Shape(mask)}, the target length on both axes: the keys of cross-attention are the {ls} source positions, so the mask is (B, L_t, L_s) = [{b}, {lt}, {ls}].");
                Expect(!mask.shape.SequenceEqual([b, ls, lt]),
                    $"it has shape {Guard.Shape(mask)}, (B, L_s, L_t): rows are queries (target positions) and columns are keys (source positions), so the mask is [{b}, {lt}, {ls}].");
                Expect(!mask.shape.SequenceEqual([b, 1, ls]),
                    $"it has shape {Guard.Shape(mask)}, the broadcastable (B, 1, L_s) form the library passes around; this exercise asks for it expanded to one row per target position, (B, L_t, L_s) = [{b}, {lt}, {ls}].");
                mask = ExpectShape(mask, [b, lt, ls], $"MyCrossMask(source {Guard.Shape(source)}, target {Guard.Shape(target)})");
                Expect(mask.dtype == ScalarType.Bool, $"it returns {mask.dtype} values; a mask here is boolean (true = may attend).");
                if (mask.eq(want).all().item<bool>()) continue;
                Expect(!mask.eq(want.logical_not()).all().item<bool>(), "it is turned around: true must mean \"may attend\", so real source tokens are true and padding is false.");
                Expect(!mask.eq(want.logical_and(ones(lt, ls, dtype: ScalarType.Bool).tril())).all().item<bool>(),
                    "it applies a causal (lower-triangle) pattern: the source is complete before decoding starts, so every target position may read every real source token, also those 'after' it.");
                Expect(!mask.eq(want.logical_and(target.ne(pad).unsqueeze(2))).all().item<bool>(),
                    "it also hides every key for padded *target* positions: such a row has no visible key at all, and a softmax over nothing gives NaN. Only the source can hide a key here.");
                var paddingKey = source.eq(pad).unsqueeze(1).expand(b, lt, ls);
                Expect(!mask.logical_and(paddingKey).any().item<bool>(), $"with pad id {pad}, some target positions may still read padded source positions: the source padding condition is missing.");
                Expect(!mask.eq(source.gt(pad).unsqueeze(1).expand(b, lt, ls)).all().item<bool>(),
                    $"it hides source tokens whose id is below the pad id {pad} (here id 0): only the pad id itself marks padding, so compare for equality, not order.");
                Expect(false, $"on source {Guard.Shape(source)} and target {Guard.Shape(target)} with pad id {pad} it hides source tokens that are not padding.");
            }
        });
}
