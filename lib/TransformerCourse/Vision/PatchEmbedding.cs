using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.Vision;

/// <summary>
/// A ViT's input layer (Dosovitskiy et al., 2021, eq. 1): patchify, project each patch linearly to width d, put a
/// learned [CLS] vector in front, and add a learned 2-D position. The position of the patch at grid (row, col) is
/// <c>row_embedding[row] + column_embedding[col]</c> (two small tables, grid rows + grid columns vectors, instead of
/// one vector per cell); [CLS] has no grid place, so its own learned vector stands in for both.
/// forward(images (B, H, W)) → tokens (B, 1 + N, d).
/// </summary>
public sealed class PatchEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Linear projection;
    private readonly Parameter cls, rows, columns;

    public PatchEmbedding(int imageSize, int patch, int width, int channels = 1) : base(nameof(PatchEmbedding))
    {
        Guard.Positive(imageSize, nameof(imageSize));
        Guard.Positive(patch, nameof(patch));
        Guard.Positive(width, nameof(width));
        if (imageSize % patch != 0)
            throw new ArgumentException($"imageSize {imageSize} must be a multiple of patch {patch}.", nameof(patch));
        (ImageSize, Patch, Width, Channels) = (imageSize, patch, width, channels);
        projection = nn.Linear(channels * patch * patch, width);
        cls = nn.Parameter(normal(0, 0.02, [1, 1, width]));
        rows = nn.Parameter(normal(0, 0.02, [Grid, width]));
        columns = nn.Parameter(normal(0, 0.02, [Grid, width]));
        RegisterComponents();
    }

    public int ImageSize { get; }
    public int Patch { get; }
    public int Width { get; }
    public int Channels { get; }

    /// <summary>Patches per side.</summary>
    public int Grid => ImageSize / Patch;

    /// <summary>Tokens per image: the patches plus [CLS].</summary>
    public int Tokens => Grid * Grid + 1;

    /// <summary>The learned position of every patch, (N, d), patch k at grid row k / Grid, column k % Grid.</summary>
    public Tensor PatchPositions() => (rows.unsqueeze(1) + columns.unsqueeze(0)).reshape(Grid * Grid, Width);

    public override Tensor forward(Tensor images)
    {
        long expected = Channels == 1 && images.dim() == 3 ? 3 : 4;
        if (images.dim() != expected || images.shape[^1] != ImageSize || images.shape[^2] != ImageSize)
            throw new ArgumentException($"images has shape {Guard.Shape(images)} but this embedding takes (B, {(Channels == 1 ? "" : $"{Channels}, ")}{ImageSize}, {ImageSize}).", nameof(images));
        using var scope = NewDisposeScope();
        var patches = projection.forward(Patches.Patchify(images, Patch)) + PatchPositions();
        var first = cls.expand(images.shape[0], 1, Width);
        return cat([first, patches], 1).MoveToOuterDisposeScope();
    }
}
