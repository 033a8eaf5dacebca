using TorchSharp;
using TorchSharp.Modules;
using TransformerCourse.Data;
using TransformerCourse.Training;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Vision;

/// <summary>
/// Toy captions for an <see cref="ImageSet"/>: a few templates filled with each class's name, digits spelled as words
/// ("a photo of a seven"), and a word-level vocabulary over all of them ([PAD] = 0).
/// </summary>
public sealed class ToyCaptions
{
    static readonly string[] DigitWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    /// <summary>The templates captions are drawn from during training; <see cref="PromptTemplate"/> is the first.</summary>
    public static IReadOnlyList<string> Templates { get; } = ["a photo of a {0}", "a handwritten {0}", "a picture of the {0}"];

    /// <summary>The template of the zero-shot prompts (as in CLIP's "A photo of a {label}.").</summary>
    public static string PromptTemplate => Templates[0];

    readonly Dictionary<string, int> ids = new() { ["[PAD]"] = 0 };

    public ToyCaptions(IReadOnlyList<string> classNames)
    {
        if (classNames.Count < 2) throw new ArgumentException($"classNames must hold at least 2 classes but holds {classNames.Count}.", nameof(classNames));
        ClassWords = classNames.Select(n => int.TryParse(n, out var d) && d is >= 0 and <= 9 ? DigitWords[d] : n).ToArray();
        foreach (var caption in Enumerable.Range(0, Templates.Count).SelectMany(t => ClassWords.Select((_, c) => Caption(c, t))))
            foreach (var word in caption.Split(' '))
                ids.TryAdd(word, ids.Count);
        MaxLength = Enumerable.Range(0, Templates.Count).Max(t => ClassWords.Select((_, c) => Caption(c, t).Split(' ').Length).Max());
    }

    /// <summary>Each class as the words of a caption ("seven", "horizontal bar").</summary>
    public IReadOnlyList<string> ClassWords { get; }
    public int VocabSize => ids.Count;
    public int MaxLength { get; }

    public string Caption(int classIndex, int template = 0) => string.Format(Templates[template], ClassWords[classIndex]);

    /// <summary>Caption ids (B, MaxLength), padded with 0 at the end.</summary>
    public Tensor Encode(IReadOnlyList<string> captions)
    {
        var data = new long[captions.Count * MaxLength];
        for (int i = 0; i < captions.Count; i++)
        {
            var words = captions[i].Split(' ');
            if (words.Length > MaxLength) throw new ArgumentException($"caption '{captions[i]}' has {words.Length} words; the most is {MaxLength}.", nameof(captions));
            for (int j = 0; j < words.Length; j++)
                data[i * MaxLength + j] = ids.TryGetValue(words[j], out var id) ? id
                    : throw new ArgumentException($"caption '{captions[i]}' has the word '{words[j]}', which no template or class name contains.", nameof(captions));
        }
        return tensor(data).reshape(captions.Count, MaxLength);
    }
}

/// <summary>
/// CLIP's text side, tiny: word embeddings plus learned positions, one of the course's Pre-LN <see cref="EncoderBlock"/>s
/// (padding masked), a LayerNorm, and the mean over the real words. forward(ids (B, L), 0 = padding) → (B, d).
/// </summary>
public sealed class CaptionEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Embedding words;
    private readonly LearnedPositionalEmbedding positions;
    private readonly EncoderBlock block;
    private readonly LayerNormalization norm;

    public CaptionEncoder(int vocabSize, int maxLength, int width, int heads) : base(nameof(CaptionEncoder))
    {
        words = nn.Embedding(vocabSize, width);
        positions = new LearnedPositionalEmbedding(maxLength, width);
        block = new EncoderBlock(width, heads, 2 * width, 0.0, NormPlacement.Pre, FeedForwardKind.Gelu);
        norm = new LayerNormalization(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        Guard.RankExactly(ids, 2, nameof(ids), "captions, words");
        using var scope = NewDisposeScope();
        var real = ids.ne(0);
        var x = block.forward(positions.forward(words.forward(ids)), real.unsqueeze(1));
        x = norm.forward(x);
        var weights = real.unsqueeze(-1).to_type(x.dtype);
        return ((x * weights).sum(1) / weights.sum(1)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A toy CLIP (Radford et al., 2021): a small <see cref="VisionTransformer"/> for images and a <see cref="CaptionEncoder"/>
/// for captions, each followed by a linear projection into one shared space, and a learned temperature stored as
/// log of the logit scale (starting at ln(1/0.07) as in the paper, used clamped at 100).
/// </summary>
public sealed class ToyClip : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly VisionTransformer images;
    private readonly CaptionEncoder captions;
    private readonly Linear imageProjection, textProjection;
    private readonly Parameter logScale;

    public ToyClip(VitConfig vision, ToyCaptions text, int embedWidth = 32) : base(nameof(ToyClip))
    {
        images = new VisionTransformer(vision);
        captions = new CaptionEncoder(text.VocabSize, text.MaxLength, vision.Width, vision.Heads);
        imageProjection = nn.Linear(vision.Width, embedWidth, hasBias: false);
        textProjection = nn.Linear(vision.Width, embedWidth, hasBias: false);
        logScale = nn.Parameter(tensor(Math.Log(1 / 0.07), float32));
        RegisterComponents();
    }

    /// <summary>The logit scale exp(logScale) as used: at most <see cref="ClipLoss.MaxLogitScale"/>.</summary>
    public double LogitScale => Math.Min(Math.Exp(logScale.item<float>()), ClipLoss.MaxLogitScale);

    public Parameter LogScale => logScale;

    public Tensor EncodeImages(Tensor x) => imageProjection.forward(images.Features(x));
    public Tensor EncodeCaptions(Tensor ids) => textProjection.forward(captions.forward(ids));

    /// <summary>Logits (images × captions): the clamped scale times the cosine similarities.</summary>
    public override Tensor forward(Tensor x, Tensor ids) => ClipLoss.Logits(EncodeImages(x), EncodeCaptions(ids), logScale);

    /// <summary>Cosine similarity of every image to every caption (no scale), (B_images, B_captions).</summary>
    public Tensor Similarity(Tensor x, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var i = nn.functional.normalize(EncodeImages(x), dim: -1);
        var t = nn.functional.normalize(EncodeCaptions(ids), dim: -1);
        return i.matmul(t.T).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Trains on batches of one image per class (so no two captions in a batch describe the same class), each with
    /// a caption from a random template, with <see cref="ClipLoss.Symmetric"/> through the course's training loop.
    /// </summary>
    public TrainingLoop<(Tensor Images, Tensor Captions)> Train(ImageSet train, ToyCaptions text, int steps, double learningRate = 2e-3, int seed = 0)
    {
        var random = new Random(seed);
        var labels = train.Labels.data<long>().ToArray();
        var byClass = Enumerable.Range(0, train.ClassNames.Count).Select(c => Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray()).ToArray();
        if (byClass.Any(rows => rows.Length == 0)) throw new ArgumentException("train must hold at least one image of every class.", nameof(train));
        var schedule = new WarmupCosineSchedule(learningRate, learningRate / 20, Math.Min(30, steps / 5), steps);
        var optimizer = optim.AdamW(parameters(), learningRate, weight_decay: 0.01);
        var loop = new TrainingLoop<(Tensor Images, Tensor Captions)>(this, optimizer,
            nextBatch: () =>
            {
                var rows = byClass.Select(rowsOfClass => (long)rowsOfClass[random.Next(rowsOfClass.Length)]).ToArray();
                var caps = Enumerable.Range(0, byClass.Length).Select(c => text.Caption(c, random.Next(ToyCaptions.Templates.Count))).ToList();
                return (train.Images.index_select(0, tensor(rows)), text.Encode(caps));
            },
            loss: batch => ClipLoss.Symmetric(forward(batch.Images, batch.Captions)),
            new TrainingLoopOptions(steps, s => schedule.At(s - 1), GradientClip: 1.0));
        loop.Run();
        return loop;
    }

    /// <summary>Zero-shot classification: each image gets the class whose prompt ("a photo of a …") is most similar.</summary>
    public Tensor ZeroShot(Tensor x, ToyCaptions text, int batchSize = 1000)
    {
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            var prompts = text.Encode(Enumerable.Range(0, text.ClassWords.Count).Select(c => text.Caption(c, 0)).ToList());
            var parts = new List<Tensor>();
            for (long start = 0; start < x.shape[0]; start += batchSize)
            {
                using var scope = NewDisposeScope();
                parts.Add(Similarity(x[TensorIndex.Slice(start, Math.Min(start + batchSize, x.shape[0]))], prompts).argmax(-1).MoveToOuterDisposeScope());
            }
            return cat(parts, 0);
        }
        finally
        {
            train(wasTraining);
        }
    }
}
