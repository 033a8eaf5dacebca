using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.Vision;

/// <summary>
/// Cutting an image into square patches, the first step of a Vision Transformer (Dosovitskiy et al., 2021, §3.1).
/// Images are (B, H, W) grey or (B, C, H, W); a patch of p×p pixels becomes one vector of C·p·p values, and the
/// patches are numbered row by row over the grid (patch k sits at grid row k / (W/p), column k % (W/p)).
/// </summary>
public static class Patches
{
    /// <summary>(B, H, W) or (B, C, H, W) → (B, N, C·p·p) with N = (H/p)·(W/p), built with <c>unfold</c>.</summary>
    public static Tensor Patchify(Tensor images, int patch)
    {
        RebuiltRoutines.Enter("Patches.Patchify");
        var x = AsChannels(images, patch, nameof(images));
        long b = x.shape[0], c = x.shape[1], rows = x.shape[2] / patch, cols = x.shape[3] / patch;
        // unfold(2, p, p) cuts the rows into bands: (B, C, H/p, W, p); unfold(3, p, p) then cuts every band into
        // squares: (B, C, H/p, W/p, p, p). The grid axes go before the channel so each patch's pixels stay together.
        return x.unfold(2, patch, patch).unfold(3, patch, patch)
            .permute(0, 2, 3, 1, 4, 5)
            .reshape(b, rows * cols, c * patch * patch);
    }

    /// <summary>The same as <see cref="Patchify"/> with explicit loops over the grid: slow and obviously right.</summary>
    public static Tensor PatchifyByLoops(Tensor images, int patch)
    {
        RebuiltRoutines.Enter("Patches.PatchifyByLoops");
        var x = AsChannels(images, patch, nameof(images));
        long rows = x.shape[2] / patch, cols = x.shape[3] / patch;
        var pieces = new List<Tensor>();
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
                pieces.Add(x[.., .., TensorIndex.Slice(r * patch, (r + 1) * patch), TensorIndex.Slice(c * patch, (c + 1) * patch)]
                    .reshape(x.shape[0], -1));
        return stack(pieces, 1);
    }

    /// <summary>The inverse of <see cref="Patchify"/>: (B, N, C·p·p) → (B, C, H, W) for a grid of H/p × W/p patches.</summary>
    public static Tensor Unpatchify(Tensor patches, int patch, int height, int width, int channels = 1)
    {
        Guard.RankExactly(patches, 3, nameof(patches), "batch, patches, values per patch");
        Guard.Positive(patch, nameof(patch));
        long rows = height / patch, cols = width / patch;
        if (height % patch != 0 || width % patch != 0 || patches.shape[1] != rows * cols || patches.shape[2] != channels * patch * patch)
            throw new ArgumentException($"patches {Guard.Shape(patches)} do not tile a {channels}×{height}×{width} image with {patch}×{patch} patches " +
                $"(expected [B, {rows * cols}, {channels * patch * patch}]).", nameof(patches));
        return patches.reshape(patches.shape[0], rows, cols, channels, patch, patch)
            .permute(0, 3, 1, 4, 2, 5)
            .reshape(patches.shape[0], channels, height, width);
    }

    static Tensor AsChannels(Tensor images, int patch, string name)
    {
        Guard.Positive(patch, nameof(patch));
        if (images.dim() is not (3 or 4))
            throw new ArgumentException($"{name} must be (B, H, W) or (B, C, H, W) but has shape {Guard.Shape(images)}.", name);
        var x = images.dim() == 3 ? images.unsqueeze(1) : images;
        if (x.shape[2] % patch != 0 || x.shape[3] % patch != 0)
            throw new ArgumentException($"{name} of shape {Guard.Shape(images)} cannot be cut into {patch}×{patch} patches: " +
                $"height {x.shape[2]} and width {x.shape[3]} must both be multiples of {patch}.", nameof(patch));
        return x;
    }
}
