using TorchSharp;
using TransformerCourse.Attention;
using TransformerCourse.Transformer;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 6 (Multi-Head Attention).</summary>
public static class Lesson06
{
    /// <summary>The library routines that compute a whole multi-head attention (or its reshapes) for you.</summary>
    static readonly string[] WholeModule = ["MultiHeadAttention.forward", "MultiHeadAttention.ForwardHeadByHead"];

    static readonly (int B, int L, int D, int H, int Head)[] PackedCases = [(2, 5, 16, 4, 2), (1, 7, 12, 3, 1), (3, 4, 10, 5, 4), (2, 6, 8, 2, 0)];

    /// <summary>
    /// Exercise 1: the attention weights (B, L, L) of one head of TorchSharp's <c>nn.MultiheadAttention</c>, read
    /// from its packed <c>in_proj_weight</c> (3d, d) and <c>in_proj_bias</c> (3d) for a batch-first input (B, L, d).
    /// </summary>
    public static Verdict HeadWeightsFromPacked(Func<Tensor, Tensor, Tensor, int, int, Tensor> yours) => Check("your HeadWeightsFromPacked",
        "go back to \"It really is h independent heads\" (which rows of a projection belong to head i) and to the numerical check against nn.MultiheadAttention (how its three projections are packed into one tensor).",
        () =>
        {
            using var generator = new Generator(seed: 6);
            foreach (var (b, l, d, h, head) in PackedCases)
            {
                var weight = randn([3 * d, d], generator: generator) / Math.Sqrt(d);
                var bias = randn([3 * d], generator: generator) * 0.5;
                var x = randn([b, l, d], generator: generator);
                var sizes = $"d = {d}, h = {h}, head {head}";
                var mine = Forbidding(WholeModule, () => yours(weight.clone(), bias.clone(), x.clone(), h, head));
                ExpectShape(mine, [b, l, l], $"HeadWeightsFromPacked(…, heads: {h}, head: {head})");
                mine = mine.detach().to_type(ScalarType.Float64);
                var want = PackedHeadWeights(weight, bias, x, h, head);
                if (Same(mine, want, 1e-5)) continue;

                var rowSums = mine.sum(-1);
                bool rowsSumToOne = rowSums.sub(1).abs().max().item<double>() < 1e-4;
                Expect(rowsSumToOne || mine.sum(-2).sub(1).abs().max().item<double>() >= 1e-4,
                    $"with {sizes}, each column of your weights sums to 1 instead of each row: the softmax ran over the queries, not over the keys.");
                Expect(rowsSumToOne, $"with {sizes}, the rows of your weights do not sum to 1: every query's weights over the keys must be a softmax.");
                Expect(!Same(mine, PackedHeadWeights(weight, bias, x, h, head, scaleByFullWidth: true), 1e-5),
                    $"with {sizes}, your scores are scaled by 1/√{d}, the full width; a head only has d_k = {d / h} features per query.");
                Expect(!Same(mine, PackedHeadWeights(weight, bias, x, h, head, keyBlock: 0), 1e-5),
                    $"with {sizes}, your keys come from the same block of in_proj_weight as your queries: the packed tensor holds three d×d blocks one after another.");
                Expect(!Same(mine, PackedHeadWeights(weight, bias, x, h, head, withBias: false), 1e-5),
                    $"with {sizes}, your weights are what you get without in_proj_bias: the projections have biases too.");
                Expect(!Same(mine, AllHeads(weight, bias, x, h).mean([1]), 1e-5),
                    $"with {sizes}, you return the average over all heads (what nn.MultiheadAttention reports), not head {head}'s own weights.");
                for (int other = 0; other < h; other++)
                    Expect(other == head || !Same(mine, PackedHeadWeights(weight, bias, x, h, other), 1e-5),
                        $"with {sizes}, you return the weights of head {other}, not of head {head}: which rows does head {head} own?");
                Expect(false, $"with {sizes}, your weights differ from head {head}'s true weights by up to {(mine - want).abs().max().item<double>():G3}.");
            }
        });

    /// <summary>
    /// What TorchSharp's <c>nn.MultiheadAttention</c> computes for one head, written out (float64): the rows
    /// [block·d + head·d_k, block·d + (head+1)·d_k) of the packed weight give that head's query (block 0),
    /// key (block 1) and value (block 2) projections. The optional arguments build the mistakes the check names.
    /// </summary>
    public static Tensor PackedHeadWeights(Tensor inProjWeight, Tensor inProjBias, Tensor x, int heads, int head,
        bool scaleByFullWidth = false, int keyBlock = 1, bool withBias = true)
    {
        long d = inProjWeight.shape[1], dk = d / heads;
        Tensor Project(int block)
        {
            var rows = TensorIndex.Slice(block * d + head * dk, block * d + (head + 1) * dk);
            var w = inProjWeight[rows].to_type(ScalarType.Float64);
            var bias = withBias ? inProjBias[rows].to_type(ScalarType.Float64) : null;
            return nn.functional.linear(x.to_type(ScalarType.Float64), w, bias);
        }
        var scores = Project(0).matmul(Project(keyBlock).transpose(-2, -1)) / Math.Sqrt(scaleByFullWidth ? d : dk);
        return scores.softmax(-1);
    }

    static Tensor AllHeads(Tensor weight, Tensor bias, Tensor x, int heads) =>
        stack(Enumerable.Range(0, heads).Select(i => PackedHeadWeights(weight, bias, x, heads, i)), 1);

    static readonly (int B, int Lq, int Lk, int D, int H, long[] Lengths)[] CrossCases =
        [(2, 3, 5, 12, 3, [5, 2]), (3, 4, 2, 8, 4, [2, 1, 2]), (1, 6, 6, 16, 2, [4]), (2, 2, 7, 6, 3, [7, 3])];

    /// <summary>
    /// Exercise 2: cross-attention written out step by step — queries (B, L_q, d) from one sequence, keys and
    /// values from a memory (B, L_k, d) whose padded positions (<c>keyMask</c> false) no head may read — with the
    /// module's own projections, and without the module's forward, its SplitHeads/MergeHeads helpers or a copy of it
    /// into TorchSharp's <c>nn.MultiheadAttention</c> (<c>CopyTo</c>).
    /// </summary>
    public static Verdict CrossAttention(Func<MultiHeadAttention, Tensor, Tensor, Tensor, Tensor> yours) => Check("your CrossAttention",
        "go back to the five steps in \"The recipe\": follow each tensor's shape, and ask which length belongs to the queries and which to the keys; for the mask, recall from lesson 4 how a mask must line up with the scores, which now have a head axis.",
        () =>
        {
            using var generator = new Generator(seed: 66);
            using var noGrad = no_grad();
            foreach (var (b, lq, lk, d, h, lengths) in CrossCases)
            {
                var module = new MultiHeadAttention(d, h);
                foreach (var p in module.parameters()) p.copy_(randn(p.shape, generator: generator) / Math.Sqrt(d));
                var queries = randn([b, lq, d], generator: generator);
                var memory = randn([b, lk, d], generator: generator);
                var keyMask = Masks.Padding(lengths, lk).squeeze(1);                            // (B, L_k), true = real key
                var sizes = $"B = {b}, L_q = {lq}, L_k = {lk}, d = {d}, h = {h}";
                var want = module.forward(queries, memory, memory, null, keyMask).Output;

                Tensor Run(Tensor mem)
                {
                    try
                    {
                        return Forbidding([.. WholeModule, "MultiHeadAttention.SplitHeads", "MultiHeadAttention.MergeHeads", "MultiHeadAttention.CopyTo"],
                            () => yours(module, queries.clone(), mem.clone(), keyMask.clone()));
                    }
                    catch (Exception e) when (e is not NotYetException and not NotImplementedException)
                    {
                        throw new NotYetException($"with {sizes}, it threw {e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}"
                            + (lq != lk ? " (in this case L_q ≠ L_k: the queries and the keys have different lengths)." : ""));
                    }
                }
                var mine = ExpectShape(Run(memory), [b, lq, d], $"CrossAttention with {sizes}").to_type(ScalarType.Float32);
                if (Same(mine, want, 1e-5)) continue;

                Expect(!Same(mine, Reference(module, queries, memory, keyMask, scale: 1 / Math.Sqrt(d)), 1e-5),
                    $"with {sizes}, your scores are scaled by 1/√{d}, the full width; each head only has d_k = {d / h} features.");
                Expect(!Same(mine, Reference(module, queries, memory, keyMask, viewWithoutTranspose: true), 1e-5),
                    $"with {sizes}, your heads are not slices of each token's features: reshaping (B, L, d) straight to (B, h, L, d_k) mixes different tokens into one head.");
                Expect(!Same(mine, Reference(module, queries, memory, keyMask, mergeWithoutTranspose: true), 1e-5),
                    $"with {sizes}, your heads are split correctly but merged without moving the head axis back: reshaping (B, h, L_q, d_k) straight to (B, L_q, d) puts different tokens' results into one row.");
                Expect(!Same(mine, Reference(module, queries, memory, keyMask, singleHead: true), 1e-5),
                    $"with {sizes}, your output is one attention over the full width: the width is never split into {h} heads.");
                if (!keyMask.all().item<bool>())
                {
                    var changed = memory.masked_fill(keyMask.unsqueeze(-1), 0) * 10 + memory;   // only padded keys change
                    var again = Run(changed).to_type(ScalarType.Float32);
                    Expect(Same(mine, again, 1e-5), $"with {sizes}, changing only the padded keys changes your output: the mask does not hide them from every head and every query.");
                }
                Expect(false, $"with {sizes}, your output differs from the module's by up to {(mine - want).abs().max().item<float>():G3}.");
            }

            // The right numbers can also come from another module holding copies of these weights (TorchSharp's
            // nn.MultiheadAttention packed by hand); then no gradient reaches this module's projections.
            var (gb, glq, glk, gd, gh, glengths) = CrossCases[^1];
            var probe = new MultiHeadAttention(gd, gh);
            var probeMask = Masks.Padding(glengths, glk).squeeze(1);
            var (probeQueries, probeMemory) = (randn([gb, glq, gd], generator: generator), randn([gb, glk, gd], generator: generator));
            using (enable_grad())
            {
                var output = Forbidding([.. WholeModule, "MultiHeadAttention.SplitHeads", "MultiHeadAttention.MergeHeads", "MultiHeadAttention.CopyTo"],
                    () => yours(probe, probeQueries, probeMemory, probeMask));
                output.sum().backward();
            }
            var reached = new[] { probe.QueryProjection, probe.KeyProjection, probe.ValueProjection, probe.OutputProjection }
                .All(l => l.weight!.grad is { } g && g.abs().sum().item<float>() > 0);
            Expect(reached, "your numbers are right, but no gradient reaches the module's own projections: the work is done by another module "
                + "holding copies of its weights (TorchSharp's nn.MultiheadAttention?). Run the five steps on the module's QueryProjection, KeyProjection, ValueProjection and OutputProjection.");
        });

    /// <summary>
    /// Masked cross-attention from the module's projections, written out (the reference for the check's
    /// diagnoses). <paramref name="viewWithoutTranspose"/>, <paramref name="mergeWithoutTranspose"/> and
    /// <paramref name="singleHead"/> build three mistakes.
    /// </summary>
    public static Tensor Reference(MultiHeadAttention module, Tensor queries, Tensor memory, Tensor keyMask,
        double? scale = null, bool viewWithoutTranspose = false, bool singleHead = false, bool mergeWithoutTranspose = false)
    {
        int h = singleHead ? 1 : module.Heads;
        Tensor Split(Tensor t)
        {
            long b = t.shape[0], l = t.shape[1], d = t.shape[2];
            return viewWithoutTranspose ? t.reshape(b, h, l, d / h) : t.view(b, l, h, d / h).transpose(1, 2);
        }
        var q = Split(module.QueryProjection.forward(queries));
        var k = Split(module.KeyProjection.forward(memory));
        var v = Split(module.ValueProjection.forward(memory));
        var mask = keyMask.unsqueeze(1).unsqueeze(1);                                            // (B, 1, 1, L_k)
        var context = ScaledDotProductAttention.Compute(q, k, v, mask, scale).Output;             // (B, h, L_q, d_k)
        long bq = queries.shape[0], lq = queries.shape[1], width = queries.shape[2];
        var merged = viewWithoutTranspose || mergeWithoutTranspose ? context.reshape(bq, lq, width) : context.transpose(1, 2).reshape(bq, lq, width);
        return module.OutputProjection.forward(merged);
    }
}
