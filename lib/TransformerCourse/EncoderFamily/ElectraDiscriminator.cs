using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>
/// ELECTRA's discriminator (Clark et al., 2020): an encoder with one logit per token, "was this token replaced?".
/// forward(ids (B, L)) → logits (B, L); sigmoid gives the probability of "replaced". The encoder is an
/// <see cref="EncoderVariant"/> whose MLM head is left unused.
/// </summary>
public sealed class ElectraDiscriminator : nn.Module<Tensor, Tensor>
{
    private readonly EncoderVariant encoder;
    private readonly Linear detect;

    public ElectraDiscriminator(EncoderVariantConfig config) : base(nameof(ElectraDiscriminator))
    {
        encoder = new EncoderVariant(config);
        detect = nn.Linear(config.Width, 1);
        RegisterComponents();
    }

    public EncoderVariant Encoder => encoder;

    /// <summary>Replaced-token logits (B, L).</summary>
    public Tensor Logits(Tensor ids, Tensor? attentionMask = null) => detect.forward(encoder.Hidden(ids, attentionMask)).squeeze(-1);

    public override Tensor forward(Tensor ids) => Logits(ids);
}
