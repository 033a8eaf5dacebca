using TorchSharp;
using TransformerCourse.Gpt;
using TransformerCourse.InContext;
using TransformerCourse.InstructionTuning;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>Lesson 20's library: the repeated-segment task, the attention-only model, head scores, and SFT's masked loss.</summary>
public class InContextLearningTests : TorchTest
{
    static readonly RepeatedSegmentTask Small = new(VocabSize: 20, Length: 16, MinSegment: 3, MaxSegment: 6);

    [Fact]
    public void Sequences_end_with_a_second_copy_of_their_segment()
    {
        using var batch = Small.Sample(50, new Random(1));
        var rows = Rows(batch.Tokens);
        Assert.Equal(50, batch.Count);
        for (int b = 0; b < batch.Count; b++)
        {
            long l = batch.Lengths[b], s = batch.Starts[b];
            Assert.InRange(l, 3, 6);
            Assert.Equal(16 - 2 * l, s);
            Assert.Equal(rows[b][(int)s..(int)(s + l)], rows[b][(int)(s + l)..]);
        }
        Assert.True(batch.Lengths.Distinct().Count() > 2, "segment lengths vary");
        using var again = Small.Sample(50, new Random(1));
        Assert.True(again.Tokens.eq(batch.Tokens).all().item<bool>(), "same seed, same sequences");
    }

    static long[][] Rows(Tensor tokens) => Enumerable.Range(0, (int)tokens.shape[0]).Select(b => tokens[b].data<long>().ToArray()).ToArray();

    [Fact]
    public void Bad_task_settings_name_the_field()
    {
        Assert.Contains("Length", Assert.Throws<ArgumentException>(() => (Small with { MaxSegment = 9 }).Validated()).Message);
        Assert.Contains("VocabSize", Assert.Throws<ArgumentException>(() => (Small with { VocabSize = 1 }).Validated()).Message);
        Assert.Contains("MinSegment", Assert.Throws<ArgumentException>(() => (Small with { MinSegment = 1 }).Validated()).Message);
    }

    [Fact]
    public void Copy_masks_hold_segment_minus_one_predictions_each()
    {
        using var batch = Small.SampleWithSegment(4, 5, new Random(2));
        var (first, second) = InductionScores.CopyMasks(batch);
        Assert.Equal([4L, 15], first.shape);
        Assert.All(Enumerable.Range(0, 4), b =>
        {
            Assert.Equal(4, first[b].sum().item<long>());
            Assert.Equal(4, second[b].sum().item<long>());
            Assert.True(first[b, 6].item<bool>() && first[b, 9].item<bool>() && !first[b, 10].item<bool>()); // start 6: predictions 6..9
            Assert.True(second[b, 11].item<bool>() && second[b, 14].item<bool>() && !second[b, 10].item<bool>()); // predictions 11..14
        });
    }

    [Fact]
    public void Induction_and_previous_token_scores_read_the_right_entries()
    {
        using var batch = Small.SampleWithSegment(2, 5, new Random(3)); // start 6, second copy 11..15
        var induction = zeros(new long[] { 1, 2, 2, 16, 16 });
        var previous = zeros(new long[] { 1, 2, 2, 16, 16 });
        for (int i = 0; i < 16; i++)
        {
            int key = i >= 11 ? i - 5 + 1 : 0;
            induction[0, .., 0, i, key] = tensor(1f);
            induction[0, .., 1, i, 0] = tensor(1f);
            previous[0, .., 0, i, Math.Max(0, i - 1)] = tensor(1f);
        }
        var scores = InductionScores.Induction(induction, batch);
        Assert.Equal([1L, 2], scores.shape);
        Assert.Equal(1.0, scores[0, 0].item<float>(), 6);
        Assert.Equal(0.0, scores[0, 1].item<float>(), 6);
        Assert.Equal(1.0, InductionScores.PreviousToken(previous, batch)[0, 0].item<float>(), 6);
        Assert.Contains("weights", Assert.Throws<ArgumentException>(() => InductionScores.Induction(zeros(new long[] { 1, 3, 2, 16, 16 }), batch)).Message);
    }

    [Fact]
    public void The_traced_weights_reproduce_the_models_logits()
    {
        manual_seed(5);
        var model = new AttentionOnlyTransformer(new GptConfig(VocabSize: 20, ContextLength: 16, Layers: 2, Heads: 2, Width: 16));
        using var batch = Small.Sample(3, new Random(4));
        using var trace = model.Trace(batch.Tokens);
        Assert.Equal([2L, 3, 2, 16, 16], trace.Weights.shape);
        Assert.True((trace.Weights.sum(-1) - 1).abs().max().item<float>() < 1e-5);
        Assert.Equal(0f, trace.Weights.triu(1).abs().max().item<float>());
        using (no_grad())
            Assert.True((trace.Logits - model.forward(batch.Tokens)).abs().max().item<float>() < 1e-5);
        Assert.True(model.training, "Trace restores training mode");
        Assert.Contains("context length", Assert.Throws<ArgumentException>(() => model.forward(zeros(new long[] { 1, 17 }, ScalarType.Int64))).Message);
    }

    [Fact]
    public void A_short_run_records_the_curve_and_scores()
    {
        var task = new RepeatedSegmentTask(VocabSize: 20, Length: 12, MinSegment: 3, MaxSegment: 5);
        var config = new GptConfig(VocabSize: 20, ContextLength: 12, Layers: 1, Heads: 2, Width: 16);
        using var run = InductionExperiment.Train("tiny", task, config, new InductionRunOptions(Steps: 6, BatchSize: 4, EvalInterval: 3, EvalSequences: 8));
        Assert.Equal([0, 3, 6], run.Curve.Select(c => c.Step));
        Assert.Equal(6, run.History.Count);
        Assert.Single(run.Induction);
        Assert.Equal(2, run.Induction[0].Length);
        Assert.InRange(run.FirstCopyLoss, 2.0, 4.0); // about ln 20 at this point
    }

    // ----- supervised fine-tuning: labels and the masked loss
    [Fact]
    public void Labels_skip_the_prompt_and_shift_by_one()
    {
        Assert.Equal([-100L, -100, 12, 13, 14], ResponseMasking.Labels([10, 11, 20, 12, 13, 14], promptLength: 3));
        Assert.Contains("promptLength", Assert.Throws<ArgumentOutOfRangeException>(() => ResponseMasking.Labels([1, 2, 3], 3)).Message);
    }

    static (Tensor Logits, Tensor Labels) Example()
    {
        var logits = randn(new long[] { 2, 6, 9 }, generator: new Generator(7));
        var labels = tensor(new long[] { -100, -100, 3, 4, 8, -100, -100, -100, -100, 1, 0, 2 }, new long[] { 2, 6 });
        return (logits, labels);
    }

    [Fact]
    public void Masked_loss_equals_the_builtin_cross_entropy_with_ignore_index()
    {
        var (logits, labels) = Example();
        var ours = ResponseMasking.Loss(logits, labels).item<float>();
        var builtin = nn.functional.cross_entropy(logits.view(-1, 9), labels.view(-1), ignore_index: -100).item<float>();
        Assert.Equal(builtin, ours, 5);
    }

    [Fact]
    public void Masked_positions_contribute_nothing_to_the_loss_or_its_gradient()
    {
        var (logits, labels) = Example();
        var keep = labels.ne(-100).unsqueeze(-1);
        var changed = logits.where(keep, randn(new long[] { 2, 6, 9 }, generator: new Generator(8)) * 10);
        Assert.Equal(ResponseMasking.Loss(logits, labels).item<float>(), ResponseMasking.Loss(changed, labels).item<float>(), 6);
        var x = logits.clone().requires_grad_(true);
        ResponseMasking.Loss(x, labels).backward();
        Assert.Equal(0f, x.grad!.where(keep.logical_not(), zeros(1)).abs().max().item<float>());
        Assert.True(x.grad!.where(keep, zeros(1)).abs().max().item<float>() > 0);
    }

    [Fact]
    public void All_ignored_labels_are_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => ResponseMasking.Loss(zeros(new long[] { 1, 3, 4 }), full(new long[] { 1, 3 }, -100, dtype: ScalarType.Int64)));
        Assert.Contains("IgnoreIndex", ex.Message);
    }

    [Fact]
    public void Batches_pad_inputs_and_ignore_padding()
    {
        var (inputs, labels) = ResponseMasking.Batch([([5, 6, 7, 8], 2), ([1, 2, 3], 1)], contextLength: 5, padToken: 0);
        Assert.Equal(new long[] { 5, 6, 7, 0, 0, 1, 2, 0, 0, 0 }, inputs.data<long>().ToArray());
        Assert.Equal(new long[] { -100, 7, 8, -100, -100, 2, 3, -100, -100, -100 }, labels.data<long>().ToArray());
        Assert.Contains("contextLength", Assert.Throws<ArgumentException>(() => ResponseMasking.Batch([([1, 2, 3, 4], 1)], 2, 0)).Message);
    }

    [Fact]
    public void Instruction_pairs_are_right_and_the_split_is_clean()
    {
        Assert.Equal("reverse: abcd=", InstructionTasks.Make("reverse", "abcd").Prompt);
        Assert.Equal("dcba.", InstructionTasks.Make("reverse", "abcd").Response);
        Assert.Equal("abcd.", InstructionTasks.Make("sort", "dbca").Response);
        Assert.Equal("CATS.", InstructionTasks.Make("upper", "cats").Response);
        Assert.Throws<ArgumentException>(() => InstructionTasks.Make("upper", "ab"));
        var random = new Random(1);
        Assert.All(Enumerable.Range(0, 300), _ => Assert.False(InstructionTasks.IsHeldOut(InstructionTasks.RandomPair(random, heldOut: false).Input)));
        var held = InstructionTasks.HeldOut(20, seed: 3);
        Assert.Equal(60, held.Count);
        Assert.All(held, p => Assert.True(InstructionTasks.IsHeldOut(p.Input)));
        Assert.True(InstructionTasks.MaxTextLength <= InstructionTuner.Config().ContextLength + 1);
        Assert.All(held, p => InstructionTasks.Tokenizer.Encode(p.Text));
    }

    [Fact]
    public void Exact_match_counts_per_task()
    {
        var pairs = new[] { InstructionTasks.Make("reverse", "abcd"), InstructionTasks.Make("reverse", "wxyz"), InstructionTasks.Make("upper", "abcd") };
        var scores = InstructionTuner.ExactMatch(pairs, ["dcba.", "wxyz.", "ABCD."]);
        Assert.Equal(0.5, scores.ByTask["reverse"]);
        Assert.Equal(1.0, scores.ByTask["upper"]);
        Assert.Equal(2.0 / 3, scores.All, 9);
        Assert.Equal(["abcd.", "wxyz.", "abcd."], InstructionTuner.CopyTheInput(pairs));
    }
}
