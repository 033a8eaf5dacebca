using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.Transformer;

/// <summary>
/// Learned absolute positions (as in GPT and BERT): one trainable vector per position 0..maxLength−1, added to the
/// token vectors. forward(x (B, L, d)) → x + weight[0..L). Parameters: maxLength·d. Unlike the sinusoidal table it
/// cannot go past <c>maxLength</c>.
/// </summary>
public sealed class LearnedPositionalEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    /// <param name="maxLength">The longest sequence it can encode.</param>
    /// <param name="width">d_model.</param>
    /// <param name="std">Standard deviation of the N(0, std²) initial values.</param>
    public LearnedPositionalEmbedding(int maxLength, int width, double std = 0.02) : base(nameof(LearnedPositionalEmbedding))
    {
        Guard.Positive(maxLength, nameof(maxLength));
        Guard.Positive(width, nameof(width));
        (MaxLength, Width) = (maxLength, width);
        weight = nn.Parameter(normal(0, std, [maxLength, width]));
        RegisterComponents();
    }

    public int MaxLength { get; }
    public int Width { get; }

    /// <summary>The (maxLength, width) table of position vectors.</summary>
    public Parameter Weight => weight;

    public override Tensor forward(Tensor x)
    {
        Guard.RankExactly(x, 3, nameof(x), "batch, length, width");
        if (x.shape[1] > MaxLength || x.shape[2] != Width)
            throw new ArgumentException(
                $"x has shape {Guard.Shape(x)} but needs length ≤ {MaxLength} (maxLength) and width {Width}.", nameof(x));
        return x + weight[..(int)x.shape[1]];
    }
}
