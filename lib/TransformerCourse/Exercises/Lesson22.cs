using TorchSharp;
using TransformerCourse.Vision;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 22 (Vision Transformers).</summary>
public static class Lesson22
{
    static readonly string[] PatchRoutines = ["Patches.Patchify", "Patches.PatchifyByLoops"];

    /// <summary>Exercise 1: cut grey images (B, H, W) into p×p patches (B, N, p·p), numbered row by row, each patch's pixels row by row.</summary>
    public static Verdict Patchify(Func<Tensor, int, Tensor> yours) => Check("your Patchify",
        "go back to the section \"From an image to a sequence\": which axes must sit next to each other before the last reshape?",
        () =>
        {
            var generator = new Generator(22UL);
            foreach (var (b, h, w, p) in new[] { (2, 28, 28, 7), (1, 8, 12, 4), (3, 6, 6, 2), (2, 9, 6, 3) })
            {
                var images = rand([b, h, w], generator: generator);
                var copy = images.clone();
                long rows = h / p, cols = w / p;
                string call = $"Patchify(images of shape [{b}, {h}, {w}], {p})";
                var got = ExpectShape(Forbidding(PatchRoutines, () => yours(images, p)), [b, rows * cols, p * p], call);
                Expect(images.eq(copy).all().item<bool>(), $"{call} changed the images it was given.");
                var want = Patches.PatchifyByLoops(images, p);
                if (Same(got, want)) continue;
                Expect(got.abs().max().item<float>() > 0, $"{call} returns only zeros: no pixel was copied into a patch.");
                Expect(!Same(got, images.reshape(b, rows * cols, p * p)),
                    $"{call} gives 'patches' that are runs of consecutive pixels: patch 0 holds the first {p} rows' worth of pixels read across the whole width, not a {p}×{p} square. A reshape alone mixes patches.");
                Expect(!Same(got, ColumnMajorGrid(want, rows, cols)),
                    $"{call} has the right patches in the wrong order: they are numbered column by column, but the lesson numbers them row by row (patch 1 is to the right of patch 0).");
                Expect(!Same(got, want.reshape(b, rows * cols, p, p).transpose(2, 3).reshape(b, rows * cols, p * p)),
                    $"{call} has the right squares but reads each patch's pixels column by column; read them row by row.");
                Expect(!Same(got.sort(-1).Values, want.sort(-1).Values),
                    $"{call} has the right pixels in every patch, but not in row-by-row order.");
                Expect(false, $"{call} gives patches that are not the {p}×{p} squares of the image (e.g. patch 0 should be the top-left square).");
            }
        });

    static Tensor ColumnMajorGrid(Tensor patches, long rows, long cols) =>
        patches.reshape(patches.shape[0], rows, cols, -1).transpose(1, 2).reshape(patches.shape[0], rows * cols, -1);

    /// <summary>Exercise 2: CLIP's symmetric loss of a (B, B) logit matrix whose diagonal holds the matching pairs.</summary>
    public static Verdict ClipLoss(Func<Tensor, Tensor> yours) => Check("your ClipLoss",
        "go back to the section \"CLIP: images and captions in one space\": who has to pick whom, and in how many directions?",
        () =>
        {
            var generator = new Generator(22UL);
            var cases = new List<Tensor> { full(4, 4, 2f) };
            foreach (int b in new[] { 2, 3, 5, 8 }) cases.Add(randn([b, b], generator: generator) * 3);
            foreach (var logits in cases)
            {
                long b = logits.shape[0];
                var copy = logits.clone();
                var answer = Forbidding(["ClipLoss.Symmetric"], () => yours(logits));
                Expect(answer is not null, "it returns null; return the loss as a scalar tensor.");
                Expect(answer!.numel() == 1, $"for a [{b}, {b}] logit matrix it returns a tensor of shape {Guard.Shape(answer)}; the loss is one number.");
                Expect(logits.eq(copy).all().item<bool>(), "it changed the logits it was given.");
                double got = answer.to_type(ScalarType.Float64).item<double>();
                double want = Vision.ClipLoss.Symmetric(logits).item<float>();
                if (Math.Abs(got - want) <= 1e-4) continue;
                var targets = arange(b);
                double rows = nn.functional.cross_entropy(logits, targets).item<float>();
                double columns = nn.functional.cross_entropy(logits.T, targets).item<float>();
                string shown = b == 4 && logits.std().item<float>() == 0 ? "all-equal 4×4 logits" : $"a random {b}×{b} logit matrix";
                Expect(got != 0, $"for {shown} it returns 0; the loss of all-equal logits is ln B, not 0.");
                Expect(Math.Abs(got - rows) > 1e-4 || Math.Abs(rows - columns) < 1e-4,
                    $"for {shown} it gives only the image→caption direction (each row picks its column); CLIP also asks each caption to pick its image.");
                Expect(Math.Abs(got - columns) > 1e-4 || Math.Abs(rows - columns) < 1e-4,
                    $"for {shown} it gives only the caption→image direction; CLIP also asks each image to pick its caption.");
                Expect(Math.Abs(got - (rows + columns)) > 1e-4, $"for {shown} it returns the sum of the two directions, twice the loss: average them.");
                Expect(Math.Abs(got - b * want) > 1e-4 && Math.Abs(got - b * (rows + columns)) > 1e-4,
                    $"for {shown} it is {b} times too large: the cross-entropy is averaged over the batch, not summed.");
                Expect(false, $"for {shown} it gives {got:0.0000}, expected {want:0.0000}.");
            }
        });

    /// <summary>Exercise 3: attention rollout of one image's layers, each (H, L, L), first layer first → (L, L).</summary>
    public static Verdict Rollout(Func<List<Tensor>, Tensor> yours) => Check("your Rollout",
        "go back to the section \"Where does [CLS] look?\": what does the residual connection add to each layer's mixing, and which layer acts last?",
        () =>
        {
            var generator = new Generator(22UL);
            foreach (var (layersCount, heads, length) in new[] { (2, 2, 3), (3, 4, 5), (1, 2, 4), (4, 1, 6) })
            {
                var layers = Enumerable.Range(0, layersCount)
                    .Select(_ => (randn([heads, length, length], generator: generator) * 2).softmax(-1)).ToList();
                var copies = layers.Select(l => l.clone()).ToList();
                string call = $"Rollout of {layersCount} layer(s) of {heads} head(s) over {length} tokens";
                var got = ExpectShape(Forbidding(["AttentionRollout.Compute"], () => yours(layers.ToList())), [length, length], call);
                Expect(layers.Zip(copies).All(p => p.First.eq(p.Second).all().item<bool>()), $"{call} changed the attention it was given.");
                var want = AttentionRollout.Compute(layers);
                if (Same(got, want, 1e-5)) continue;
                Expect(!Same(got, eye(length)), $"{call} returns the identity: every token keeps only itself, as if no layer had mixed anything.");
                var mean = layers.Select(l => l.mean([0])).ToList();
                Expect(!Same(got, Chain(mean, addIdentity: false, renormalise: false, lastOnLeft: true)) && !Same(got, Chain(mean, false, true, true)),
                    $"{call} leaves out the residual connection: each layer's output is its input plus the attention's mix, so add the identity before multiplying.");
                Expect(!Same(got, Chain(mean, addIdentity: true, renormalise: false, lastOnLeft: true)),
                    $"{call} has rows that do not sum to 1: after adding the identity, renormalise each row.");
                Expect(!Same(got, Chain(mean, true, true, lastOnLeft: false)),
                    $"{call} multiplies the layers in the wrong order: the last layer acts last, so it stands on the left.");
                Expect(!Same(got, Chain(layers.Select(l => l[0]).ToList(), true, true, true)) || heads == 1,
                    $"{call} uses only the first head; average over all heads.");
                Expect(false, $"{call} differs from the rollout (row 0 should be [{string.Join(", ", want[0].data<float>().ToArray().Select(v => v.ToString("0.000")))}]).");
            }
        });

    static Tensor Chain(List<Tensor> layers, bool addIdentity, bool renormalise, bool lastOnLeft)
    {
        Tensor? r = null;
        foreach (var a in layers)
        {
            var m = addIdentity ? a + eye(a.shape[^1]) : a;
            if (renormalise) m = m / m.sum(-1, keepdim: true);
            r = r is null ? m : lastOnLeft ? m.matmul(r) : r.matmul(m);
        }
        return r!;
    }
}
