namespace TransformerCourse.Notebook;

/// <summary>One lesson of the course map (../shared/COURSE.md in the project's planning notes).</summary>
public sealed record Lesson(int Number, int Section, string Title, string Folder, string Slug)
{
    /// <summary>Path from the repository root.</summary>
    public string RelativePath => $"notebooks/{Folder}/{Number:00}-{Slug}.ipynb";
}

/// <summary>The 28 lessons in their six sections, in the fixed course order.</summary>
public static class CourseMap
{
    public static IReadOnlyList<string> Sections { get; } =
    [
        "The Attention Mechanism",
        "The Full Transformer Architecture",
        "BERT and the Encoder-Only Family",
        "GPT and the Decoder-Only Family",
        "Modern Variants",
        "Capstone: a Mini-GPT From Scratch",
    ];

    static readonly string[] Folders =
        ["01-attention-mechanism", "02-transformer-architecture", "03-bert-encoders", "04-gpt-decoders", "05-modern-variants", "06-capstone-mini-gpt"];

    public static IReadOnlyList<Lesson> Lessons { get; } = Build(
        (1, "The Attention Revolution", "the-attention-revolution"),
        (1, "Scaled Dot-Product Attention", "scaled-dot-product-attention"),
        (1, "Queries, Keys and Values", "queries-keys-values"),
        (1, "Masking", "masking"),
        (1, "Attention in Action", "attention-in-action"),
        (2, "Multi-Head Attention", "multi-head-attention"),
        (2, "Positional Encoding", "positional-encoding"),
        (2, "Residual Connections and Layer Normalization", "residuals-and-layer-norm"),
        (2, "The Feed-Forward Network and the Transformer Block", "feed-forward-and-block"),
        (2, "The Encoder–Decoder Transformer", "encoder-decoder"),
        (2, "Training a Transformer", "training-a-transformer"),
        (3, "Tokenization and Input Embeddings", "tokenization-and-embeddings"),
        (3, "BERT Pretraining", "bert-pretraining"),
        (3, "Fine-Tuning BERT", "fine-tuning-bert"),
        (3, "The Encoder Family", "encoder-family"),
        (4, "Causal Language Modelling", "causal-language-modelling"),
        (4, "Decoding Strategies", "decoding-strategies"),
        (4, "The KV Cache", "kv-cache"),
        (4, "Scaling Laws", "scaling-laws"),
        (4, "In-Context Learning and Instruction Tuning", "in-context-learning"),
        (4, "RLHF", "rlhf"),
        (5, "Vision Transformers", "vision-transformers"),
        (5, "Flash Attention", "flash-attention"),
        (5, "Mixture of Experts", "mixture-of-experts"),
        (5, "Modern Building Blocks", "modern-building-blocks"),
        (6, "Building the Mini-GPT", "building-mini-gpt"),
        (6, "Training on the GPU", "training-on-the-gpu"),
        (6, "Sampling, Inspection and Shipping", "sampling-and-shipping"));

    public static Lesson Get(int number) =>
        number is >= 1 and <= 28 ? Lessons[number - 1]
            : throw new ArgumentOutOfRangeException(nameof(number), number, "Lessons are numbered 1 to 28.");

    /// <summary>Link from one lesson notebook to another (both live two folders below the root).</summary>
    public static string LinkFrom(Lesson from, Lesson to) =>
        from.Folder == to.Folder ? $"{to.Number:00}-{to.Slug}.ipynb" : $"../{to.Folder}/{to.Number:00}-{to.Slug}.ipynb";

    /// <summary>The map as an HTML table with links, marking lessons whose notebook exists under <paramref name="repositoryRoot"/>.</summary>
    public static string ToHtml(string repositoryRoot, Lesson? from = null)
    {
        var rows = Lessons.Select(l =>
        {
            var exists = File.Exists(Path.Combine(repositoryRoot, l.RelativePath));
            var link = from is null ? l.RelativePath : LinkFrom(from, l);
            var title = System.Net.WebUtility.HtmlEncode(l.Title);
            return $"<tr><td>{l.Number}</td><td>{l.Section}. {System.Net.WebUtility.HtmlEncode(Sections[l.Section - 1])}</td>" +
                   $"<td><a href=\"{link}\">{title}</a></td><td>{(exists ? "ready" : "coming")}</td></tr>";
        });
        return "<table class=\"course-table\"><thead><tr><th>#</th><th>Section</th><th>Lesson</th><th>Notebook</th></tr></thead><tbody>" +
               string.Concat(rows) + "</tbody></table>";
    }

    static List<Lesson> Build(params (int Section, string Title, string Slug)[] rows) =>
        rows.Select((r, i) => new Lesson(i + 1, r.Section, r.Title, Folders[r.Section - 1], r.Slug)).ToList();
}
