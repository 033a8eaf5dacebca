using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TransformerCourse.Bert;

/// <summary>What <see cref="BertModel"/> returns: hidden states (B, L, d), MLM logits (B, L, V) and NSP logits (B, 2)
/// (index 1 = "B really follows A").</summary>
public sealed record BertOutput(Tensor Hidden, Tensor MlmLogits, Tensor NspLogits);

/// <summary>
/// BERT for pretraining (Devlin et al., 2019): a <see cref="BertEncoder"/> and two heads.
/// <list type="bullet">
/// <item>MLM head at every position: dense d→d, GELU, LayerNorm, then the output layer, which is the token embedding
/// table itself (tied, transposed) plus a bias of size V: logits = LN(GELU(h W + b)) Eᵀ + b_V.</item>
/// <item>NSP head on [CLS] (position 0): the pooler, dense d→d with tanh, then a linear d→2 classifier.</item>
/// </list>
/// forward(ids, segments, attentionMask) → <see cref="BertOutput"/>.
/// </summary>
public sealed class BertModel : nn.Module<Tensor, Tensor, Tensor?, BertOutput>
{
    private readonly BertEncoder bert;
    private readonly Linear mlm_dense, pooler, nsp;
    private readonly LayerNorm mlm_norm;
    private readonly Parameter mlm_bias;
    private readonly Dropout dropout;

    public BertModel(BertConfig config) : base(nameof(BertModel))
    {
        Config = config.Validated();
        bert = new BertEncoder(config);
        mlm_dense = nn.Linear(config.Width, config.Width);
        mlm_norm = nn.LayerNorm(config.Width);
        mlm_bias = nn.Parameter(zeros(config.VocabSize));
        pooler = nn.Linear(config.Width, config.Width);
        dropout = nn.Dropout(config.Dropout);
        nsp = nn.Linear(config.Width, 2);
        RegisterComponents();
        BertEncoder.InitializeWeights(this);
    }

    public BertConfig Config { get; }

    /// <summary>The encoder alone: token ids → hidden states (what fine-tuning heads sit on).</summary>
    public BertEncoder Encoder => bert;

    /// <summary>The pooler (dense d→d; apply tanh) that turns the [CLS] hidden state into the sentence vector.</summary>
    public Linear Pooler => pooler;

    public long ParameterCount => parameters().Sum(p => p.numel());

    public override BertOutput forward(Tensor ids, Tensor segments, Tensor? attentionMask = null)
    {
        using var scope = NewDisposeScope();
        var hidden = bert.forward(ids, segments, attentionMask);
        var mlm = MlmLogits(hidden);
        var nspLogits = NspLogits(hidden);
        return new BertOutput(hidden.MoveToOuterDisposeScope(), mlm.MoveToOuterDisposeScope(), nspLogits.MoveToOuterDisposeScope());
    }

    /// <summary>hidden (…, d) → MLM logits (…, V), through the tied output layer.</summary>
    public Tensor MlmLogits(Tensor hidden)
    {
        Exercises.RebuiltRoutines.Enter("BertModel.MlmLogits");
        using var scope = NewDisposeScope();
        var h = mlm_norm.forward(nn.functional.gelu(mlm_dense.forward(hidden)));
        return (h.matmul(bert.TokenTable.t()) + mlm_bias).MoveToOuterDisposeScope();
    }

    /// <summary>hidden (B, L, d) → tanh(pooler(h_[CLS])) (B, d): the sentence vector BERT classifies from.</summary>
    public Tensor Pool(Tensor hidden)
    {
        Guard.RankExactly(hidden, 3, nameof(hidden), "batch, length, width");
        return tanh(pooler.forward(hidden[.., 0]));
    }

    /// <summary>hidden (B, L, d) → NSP logits (B, 2) from the pooled [CLS] vector.</summary>
    public Tensor NspLogits(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return nsp.forward(dropout.forward(Pool(hidden))).MoveToOuterDisposeScope();
    }
}
