using TransformerCourse.Bert;
using TransformerCourse.Tokenization;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>The mini-BERT of lesson 13: model, heads, masking, NSP data, losses, checkpoint.</summary>
public class BertTests : TorchTest
{
    const string Play = """
        FIRST CITIZEN:
        Before we proceed any further, hear me speak.
        Speak, speak, and let the people hear you now.
        You are all resolved rather to die than to famish.

        SECOND CITIZEN:
        Resolved, resolved, we know it well enough.
        We know it, we know it, and we say it again.

        FIRST CITIZEN:
        First, you know Caius Marcius is chief enemy to the people.
        We know it, we know it, the people know it too.
        Let us kill him, and we will have corn at our own price.
        Is it a verdict? No more talking on it; let it be done.
        """;

    /// <summary>60 speeches of 6 numbered lines: 300 NSP pairs whose truth can be read off the text.</summary>
    static readonly string Numbered = string.Join("\n\n", Enumerable.Range(0, 60).Select(s =>
        $"SPEAKER{s % 3}:\n" + string.Join("\n", Enumerable.Range(0, 6).Select(i => $"line {i} of speech {s}" + (s % 4 == 0 ? ", and we know it well enough" : "")))));

    static readonly BytePairEncoder Tok = BertTokenizer.Train(Play, 300);

    static BertConfig Tiny(int vocab) => new(vocab, Width: 32, Heads: 4, Layers: 2, FeedForwardWidth: 64, MaxLength: 40, Dropout: 0);

    [Fact]
    public void Forward_gives_hidden_mlm_and_nsp_shapes()
    {
        using var model = new BertModel(Tiny(Tok.VocabSize));
        var examples = new BertExamples(Tok, SentencePairData.Pairs(Numbered, 0), 40);
        var batch = examples.Batch([0, 1, 2], new Generator(1));
        var output = model.forward(batch.InputIds, batch.Segments, batch.AttentionMask);
        long l = batch.InputIds.shape[1];
        Assert.Equal(new long[] { 3, l, 32 }, output.Hidden.shape);
        Assert.Equal(new long[] { 3, l, Tok.VocabSize }, output.MlmLogits.shape);
        Assert.Equal(new long[] { 3, 2 }, output.NspLogits.shape);
    }

    [Fact]
    public void Mlm_head_is_tied_to_the_token_embedding()
    {
        using var model = new BertModel(Tiny(Tok.VocabSize));
        // No V×d matrix other than the token table, and the gradient of the MLM loss reaches that table through the output layer.
        var big = model.parameters().Where(p => p.dim() == 2 && p.shape[0] == Tok.VocabSize).ToList();
        Assert.Single(big);
        var hidden = randn(2, 5, 32);
        var logits = model.MlmLogits(hidden);
        logits[0, 0, 7].backward();
        // Token 7 never appears in the input, so its row's gradient can only come from the output layer.
        Assert.True(model.Encoder.TokenTable.grad!.select(0, 7).abs().sum().item<float>() > 0);
        // Changing the token table changes the MLM logits.
        using (no_grad()) model.Encoder.TokenTable[7].add_(1.0f);
        Assert.False(model.MlmLogits(hidden).allclose(logits));
    }

    [Fact]
    public void Padding_does_not_change_the_real_positions()
    {
        using var model = new BertModel(Tiny(Tok.VocabSize));
        model.eval();
        var examples = new BertExamples(Tok, SentencePairData.Pairs(Numbered, 0), 40);
        int row = (int)examples.AttentionMask.sum(dim: 1).argmin().item<long>();
        var ids = examples.Ids[row..(row + 1)].clone();
        var mask = examples.AttentionMask[row..(row + 1)];
        var segments = examples.Segments[row..(row + 1)];
        int real = (int)mask.sum().item<long>();
        Assert.True(real < 40, "the example must have padding for this test");
        var other = ids.clone();
        other[0, TensorIndex.Slice(real)] = tensor(5L);   // garbage where [PAD] was
        using var noGrad = no_grad();
        var a = model.Encoder.forward(ids, segments, mask)[0, TensorIndex.Slice(0, real)];
        var b = model.Encoder.forward(other, segments, mask)[0, TensorIndex.Slice(0, real)];
        Assert.True(a.allclose(b, atol: 1e-5));
        var unmasked = model.Encoder.forward(other, segments, null)[0, TensorIndex.Slice(0, real)];
        Assert.False(a.allclose(unmasked, atol: 1e-5));
    }

    [Fact]
    public void Attention_weights_are_returned_per_layer_and_ignore_padding()
    {
        using var model = new BertModel(Tiny(Tok.VocabSize));
        var examples = new BertExamples(Tok, SentencePairData.Pairs(Numbered, 0), 40);
        var b = examples.Batch([0, 1], new Generator(3));
        var run = model.Encoder.Run(b.InputIds, b.Segments, b.AttentionMask, keepAttention: true);
        Assert.Equal(2, run.Attention.Count);
        Assert.Equal(3, run.HiddenStates.Count);
        var w = run.Attention[1];
        long l = b.InputIds.shape[1];
        Assert.Equal(new long[] { 2, 4, l, l }, w.shape);
        Assert.True(w.sum(dim: -1).allclose(ones(2, 4, l), atol: 1e-5));
        var padKeys = b.AttentionMask.logical_not().view(2, 1, 1, l).expand(2, 4, l, l);
        Assert.Equal(0.0, w.masked_select(padKeys).abs().sum().item<float>(), 6);
    }

    [Fact]
    public void Masking_follows_15_percent_and_80_10_10()
    {
        const int rows = 400, cols = 100, vocab = 1000, maskId = 1003;
        var generator = new Generator(11);
        var ids = randint(0, vocab, [rows, cols], generator: generator, dtype: ScalarType.Int64);
        var maskable = ones(rows, cols, dtype: ScalarType.Bool);
        maskable[.., 0] = tensor(false);               // [CLS]
        maskable[.., TensorIndex.Slice(90)] = tensor(false);   // padding and [SEP]
        var m = MlmMasking.Apply(ids, maskable, maskId, vocab, generator);
        long n = maskable.sum().item<long>();   // 35,600 maskable positions
        long chosen = m.Chosen.sum().item<long>();
        // Binomial: sd of the rate is sqrt(.15·.85/35600) ≈ 0.0019; allow 4 sd.
        Assert.InRange((double)chosen / n, 0.15 - 0.0076, 0.15 + 0.0076);
        Assert.Equal(0, m.Chosen.logical_and(maskable.logical_not()).sum().item<long>());
        var masked = m.Inputs.eq(maskId).logical_and(m.Chosen).sum().item<long>();
        var kept = m.Inputs.eq(ids).logical_and(m.Chosen).sum().item<long>();
        var random = chosen - masked - kept;
        // sd of a share among ≈ 5,340 chosen: 0.0055 (80 %), 0.0041 (10 %); allow 4 sd.
        Assert.InRange((double)masked / chosen, 0.8 - 0.022, 0.8 + 0.022);
        Assert.InRange((double)random / chosen, 0.1 - 0.017, 0.1 + 0.017);
        Assert.InRange((double)kept / chosen, 0.1 - 0.017, 0.1 + 0.017);
        // Labels: the original id where chosen, the ignore index elsewhere; unchosen inputs unchanged.
        Assert.True(m.Labels.masked_select(m.Chosen).equal(ids.masked_select(m.Chosen)).all().item<bool>());
        Assert.True(m.Labels.masked_select(m.Chosen.logical_not()).eq(MlmMasking.IgnoreIndex).all().item<bool>());
        Assert.True(m.Inputs.masked_select(m.Chosen.logical_not()).equal(ids.masked_select(m.Chosen.logical_not())).all().item<bool>());
        Assert.True(m.Inputs.lt(vocab).logical_or(m.Inputs.eq(maskId)).all().item<bool>(), "random replacements must be ordinary tokens");
    }

    [Fact]
    public void Special_tokens_are_never_masked_in_real_batches()
    {
        var examples = new BertExamples(Tok, SentencePairData.Pairs(Numbered, 0), 40);
        var generator = new Generator(5);
        var specials = Tok.SpecialTokens.Values.Select(v => (long)v).ToArray();
        for (int i = 0; i < 30; i++)
        {
            var b = examples.Sample(16, generator);
            var chosen = b.MlmLabels.ne(MlmMasking.IgnoreIndex);
            var atSpecial = b.OriginalIds.ge(BertTokenizer.OrdinaryTokens(Tok));
            Assert.Equal(0, chosen.logical_and(atSpecial).sum().item<long>());
            Assert.True(b.OriginalIds.masked_select(atSpecial).data<long>().All(specials.Contains));
        }
    }

    [Fact]
    public void Dynamic_masks_change_between_batches_and_static_masks_do_not()
    {
        var examples = new BertExamples(Tok, SentencePairData.Pairs(Numbered, 0), 40);
        long[] rows = [0, 1, 2, 3, 4, 5, 6, 7];
        var generator = new Generator(9);
        var d1 = examples.Batch(rows, generator, mode: MaskingMode.Dynamic);
        var d2 = examples.Batch(rows, generator, mode: MaskingMode.Dynamic);
        Assert.False(d1.MlmLabels.equal(d2.MlmLabels).all().item<bool>());
        var s1 = examples.Batch(rows, generator, mode: MaskingMode.Static, staticSeed: 3);
        var s2 = examples.Batch([4, 5, 6, 7, 0, 1, 2, 3], generator, mode: MaskingMode.Static, staticSeed: 3);
        Assert.True(s1.InputIds.equal(s2.InputIds.roll(4, 0)).all().item<bool>(), "an example's static mask must not depend on the batch it is in");
        var s3 = examples.Batch(rows, generator, mode: MaskingMode.Static, staticSeed: 4);
        Assert.False(s1.MlmLabels.equal(s3.MlmLabels).all().item<bool>());
    }

    [Fact]
    public void Nsp_pairs_are_half_true_next_lines_and_deterministic()
    {
        var text = Numbered;
        var pairs = SentencePairData.Pairs(text, 42);
        Assert.Equal(60 * 5, pairs.Count);
        Assert.Equal(pairs, SentencePairData.Pairs(text, 42));
        Assert.NotEqual(pairs.Select(p => p.IsNext), SentencePairData.Pairs(text, 43).Select(p => p.IsNext));
        double share = pairs.Count(p => p.IsNext) / (double)pairs.Count;
        Assert.InRange(share, 0.5 - 4 * 0.029, 0.5 + 4 * 0.029);
        foreach (var p in pairs)
        {
            var a = p.A.Split(' '); var b = p.B.Split(' ');
            bool consecutive = a[4].TrimEnd(',') == b[4].TrimEnd(',') && int.Parse(b[1]) == int.Parse(a[1]) + 1;
            Assert.Equal(p.IsNext, consecutive);
            Assert.DoesNotContain(":", p.A);
        }
    }

    [Fact]
    public void Encode_truncates_long_pairs_and_keeps_the_layout()
    {
        var pair = SentencePairData.Encode(Tok, "Before we proceed any further, hear me speak, speak, speak.", "We know it.", 12);
        int cls = Tok.SpecialId("[CLS]"), sep = Tok.SpecialId("[SEP]");
        Assert.Equal(12, pair.Length);
        Assert.Equal(cls, pair.Ids[0]);
        Assert.Equal(2, pair.Ids.Count(i => i == sep));
        Assert.Equal(sep, pair.Ids[^1]);
        int firstSep = Array.IndexOf(pair.Ids, sep);
        Assert.All(pair.Segments[..(firstSep + 1)], s => Assert.Equal(0, s));
        Assert.All(pair.Segments[(firstSep + 1)..], s => Assert.Equal(1, s));
        Assert.Throws<ArgumentOutOfRangeException>(() => SentencePairData.Encode(Tok, "a", "b", 4));
    }

    [Fact]
    public void Losses_at_initialisation_are_near_ln_V_and_ln_2()
    {
        manual_seed(0);
        using var model = new BertModel(Tiny(Tok.VocabSize));
        var examples = new BertExamples(Tok, SentencePairData.Pairs(Numbered, 0), 40);
        var b = examples.Sample(64, new Generator(2));
        var loss = BertPretraining.Loss(model, b);
        Assert.InRange(loss.Metrics!["mlm_loss"].item<float>(), Math.Log(Tok.VocabSize) - 0.5, Math.Log(Tok.VocabSize) + 0.5);
        Assert.InRange(loss.Metrics!["nsp_loss"].item<float>(), Math.Log(2) - 0.15, Math.Log(2) + 0.15);
    }

    [Fact]
    public void Mlm_loss_counts_only_the_masked_positions()
    {
        var logits = randn(2, 4, 10);
        var labels = tensor(new long[] { -100, 3, -100, -100, 7, -100, -100, 1 }, [2, 4]);
        var expected = (nn.functional.cross_entropy(logits[0, 1].unsqueeze(0), tensor(new long[] { 3 }))
                      + nn.functional.cross_entropy(logits[1, 0].unsqueeze(0), tensor(new long[] { 7 }))
                      + nn.functional.cross_entropy(logits[1, 3].unsqueeze(0), tensor(new long[] { 1 }))) / 3;
        Assert.Equal(expected.item<float>(), BertPretraining.MlmLoss(logits, labels).item<float>(), 5);
        var changed = logits.clone();
        changed[0, 0] = randn(10);
        Assert.Equal(expected.item<float>(), BertPretraining.MlmLoss(changed, labels).item<float>(), 5);
        Assert.Equal(0f, BertPretraining.MlmLoss(logits, full(2, 4, -100L)).item<float>());
        Assert.Throws<ArgumentException>(() => BertPretraining.MlmLoss(logits, labels.view(8)));
    }

    [Fact]
    public void A_few_steps_through_the_training_loop_lower_the_loss()
    {
        manual_seed(0);
        using var model = new BertModel(Tiny(Tok.VocabSize));
        var examples = new BertExamples(Tok, SentencePairData.Pairs(Numbered, 0), 40);
        var fixedBatch = examples.FixedBatches(64, 1);
        var before = BertPretraining.Evaluate(model, fixedBatch);
        var generator = new Generator(4);
        var loop = new TrainingLoop<BertBatch>(model, optim.AdamW(model.parameters(), 3e-3),
            () => examples.Sample(16, generator), b => BertPretraining.Loss(model, b), new TrainingLoopOptions(60));
        loop.Run();
        var after = BertPretraining.Evaluate(model, fixedBatch);
        Assert.True(after.MlmLoss < before.MlmLoss - 1, $"MLM loss {before.MlmLoss:0.00} → {after.MlmLoss:0.00}");
    }

    [Fact]
    public void Checkpoint_round_trips_and_refuses_a_damaged_file()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"bert-ckpt-{Guid.NewGuid():N}");
        try
        {
            manual_seed(1);
            using var model = new BertModel(Tiny(Tok.VocabSize));
            var info = new BertCheckpointInfo(new BertPretrainingRecipe(Steps: 1), model.Config, BertTokenizer.Merges(Tok), [new BertCurvePoint(0, double.NaN, double.NaN, 6.9, 0, 0.69, 0.5)], [1.0], [0.5], 0.1,
                new BertScores(1, 0.5, 0.7, 0.5, 10, 4));
            var path = Path.Combine(folder, "bert.bin");
            BertCheckpoint.Save(path, info, model);
            Assert.Single(Directory.GetFiles(folder));   // no temporary file left behind
            var (loaded, readInfo) = BertCheckpoint.LoadModel(path);
            Assert.Equal(info.Recipe, readInfo.Recipe);
            Assert.Equal(Tok.Encode("hear me speak"), BertTokenizer.FromMerges(readInfo.Merges).Encode("hear me speak"));
            var ids = tensor(new long[] { Tok.SpecialId("[CLS]"), 40, 50, Tok.SpecialId("[SEP]") }).unsqueeze(0);
            var seg = zeros_like(ids);
            model.eval();
            using (no_grad()) Assert.True(model.forward(ids, seg).MlmLogits.allclose(loaded.forward(ids, seg).MlmLogits));
            var bytes = File.ReadAllBytes(path);
            bytes[^100] ^= 0x5A;
            File.WriteAllBytes(path, bytes);
            Assert.Throws<InvalidDataException>(() => BertCheckpoint.ReadInfo(path));
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            Assert.Throws<InvalidDataException>(() => BertCheckpoint.ReadInfo(path));
            using var other = new BertModel(Tiny(Tok.VocabSize) with { Layers = 1 });
            BertCheckpoint.Save(path, info, model);
            Assert.Throws<ArgumentException>(() => BertCheckpoint.Load(path, other));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void Pre_ln_option_adds_one_final_norm_and_leaves_post_ln_as_it_was()
    {
        using var post = new BertModel(Tiny(Tok.VocabSize));
        using var pre = new BertModel(Tiny(Tok.VocabSize) with { Norm = TransformerCourse.Transformer.NormPlacement.Pre });
        var postNames = post.named_parameters().Select(p => p.name).ToList();
        var preNames = pre.named_parameters().Select(p => p.name).ToList();
        Assert.DoesNotContain(postNames, n => n.Contains("final_norm"));
        Assert.Equal(postNames.Concat(["bert.final_norm.weight", "bert.final_norm.bias"]).Order(), preNames.Order());
        var ids = tensor(new long[] { Tok.SpecialId("[CLS]"), 40, 50, 60, Tok.SpecialId("[SEP]") }).unsqueeze(0);
        var segments = zeros_like(ids);
        pre.eval();
        using (no_grad())
        {
            var forward = pre.Encoder.forward(ids, segments);
            var run = pre.Encoder.Run(ids, segments);
            Assert.Equal(3, run.HiddenStates.Count);
            Assert.True(run.Hidden.allclose(forward) && run.HiddenStates[^1].allclose(forward), "Run's last state is forward's output, after the final LayerNorm");
            Assert.True(forward.mean([-1L]).abs().max().item<float>() < 1e-4, "the final LayerNorm (gain 1, shift 0 at init) centres every position");
        }
        // A checkpoint from the other placement is from another recipe, so PretrainedBert retrains instead of loading it.
        var recipe = new BertPretrainingRecipe(Steps: 1, Norm: TransformerCourse.Transformer.NormPlacement.Pre);
        Assert.NotEqual(recipe with { Norm = TransformerCourse.Transformer.NormPlacement.Post }, recipe);
        Assert.Equal(TransformerCourse.Transformer.NormPlacement.Pre, recipe.Config(Tok.VocabSize).Norm);
    }

    [Fact]
    public void Bad_configuration_and_inputs_are_rejected_with_names()
    {
        var e = Assert.Throws<ArgumentException>(() => new BertConfig(100, Width: 30, Heads: 4).Validated());
        Assert.Equal("Width", e.ParamName);
        using var model = new BertModel(Tiny(Tok.VocabSize));
        var ids = zeros(2, 5, dtype: ScalarType.Int64);
        var m = Assert.Throws<ArgumentException>(() => model.forward(ids, zeros_like(ids), ones(2, 4, dtype: ScalarType.Bool)));
        Assert.Equal("attentionMask", m.ParamName);
        var k = Assert.Throws<ArgumentException>(() => MlmMasking.Apply(ids, ones(2, 4, dtype: ScalarType.Bool), 3, 10));
        Assert.Equal("maskable", k.ParamName);
    }
}
