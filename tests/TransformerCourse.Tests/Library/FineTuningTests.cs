using TorchSharp;
using TransformerCourse.Data;
using TransformerCourse.FineTuning;
using TransformerCourse.Tokenization;
using TransformerCourse.Transformer;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>Lesson 14's library: the labelled tasks, label budgets, sub-word alignment, the two heads and fine-tuning.</summary>
public class FineTuningTests : TorchTest
{
    static readonly Lazy<string> Shakespeare = new(() => TinyShakespeare.LoadAsync(TestData.Mirror()).GetAwaiter().GetResult().Text);

    const string Play = "ROMEO:\nBut soft, what light\nthrough yonder window breaks?\n\nJULIET:\nAy me!\n\nROMEO:\nShe speaks.\n\nNURSE:\nMadam!\n";

    [Fact]
    public void Speeches_are_parsed_from_headings_and_blank_lines()
    {
        var speeches = ShakespeareSpeeches.Parse(Play);
        Assert.Equal(["ROMEO", "JULIET", "ROMEO", "NURSE"], speeches.Select(s => s.Speaker));
        Assert.Equal(["But soft, what light", "through yonder window breaks?"], speeches[0].Lines);
        Assert.Equal([0, 1, 2, 3], speeches.Select(s => s.Index));
    }

    [Fact]
    public void Alignment_labels_the_first_piece_and_ignores_the_rest()
    {
        var (tokens, labels) = SubwordAlignment.Align([[5], [7, 8, 9], [3, 4]], [0, 1, 2]);
        Assert.Equal([5, 7, 8, 9, 3, 4], tokens);
        Assert.Equal([0, 1, -100, -100, 2, -100], labels);
        Assert.Equal(-100, SubwordAlignment.IgnoreIndex);
    }

    [Fact]
    public void Alignment_rejects_mismatched_or_empty_words()
    {
        var e = Assert.Throws<ArgumentException>(() => SubwordAlignment.Align([[1], [2]], [0]));
        Assert.Equal("wordLabels", e.ParamName);
        Assert.Contains("1 labels for 2 words", e.Message);
        Assert.Equal("wordPieces", Assert.Throws<ArgumentException>(() => SubwordAlignment.Align([[1], []], [0, 1])).ParamName);
    }

    [Fact]
    public void Encoded_tags_put_specials_and_extra_pieces_on_the_ignore_index()
    {
        // A toy tokenizer: one id per character, so "Romeo" is five pieces.
        var format = new BertInputFormat(s => s.Select(c => (int)c).ToArray(), ClsId: 1, SepId: 2, PadId: 0, MaxLength: 16);
        using var set = EncodedSet.ForTags([["O", "Romeo"], ["Ay"]], [[0, 1], [0]], format);
        Assert.Equal([2L, 9L], set.Ids.shape);   // the longest line plus [CLS] and [SEP]: 1 + 1 + 6 + 1
        var ids = set.Ids[0].data<long>().ToArray();
        var labels = set.Labels[0].data<long>().ToArray();
        Assert.Equal([1L, 'O', ' ', 'R', 'o', 'm', 'e', 'o', 2L], ids);
        Assert.Equal([-100L, 0, 1, -100, -100, -100, -100, -100, -100], labels);
        Assert.Equal([0, 1, 0], set.LabelValues());
        Assert.Equal([true, true, true, true, false], set.Mask[1].data<bool>().Take(5).ToArray());
    }

    [Fact]
    public void Sequences_longer_than_the_limit_are_cut_and_keep_sep()
    {
        var format = new BertInputFormat(s => s.Select(c => (int)c).ToArray(), 1, 2, 0, MaxLength: 5);
        using var set = EncodedSet.ForSequences(["abcdefgh", "ab"], [1, 0], format);
        Assert.Equal([1L, 'a', 'b', 'c', 2L], set.Ids[0].data<long>().ToArray());
        Assert.Equal([1L, 'a', 'b', 2L, 0L], set.Ids[1].data<long>().ToArray());
        Assert.Equal([1L, 0L], set.Labels.data<long>().ToArray());
    }

    [Fact]
    public void Budgets_are_stratified_nested_deterministic_and_keep_every_class()
    {
        var labels = Enumerable.Range(0, 1000).Select(i => i < 700 ? 0 : i < 950 ? 1 : 2).ToList();
        var small = LabelBudget.Subsample(labels, 0.01, seed: 3);
        var large = LabelBudget.Subsample(labels, 0.1, seed: 3);
        Assert.Equal(small, LabelBudget.Subsample(labels, 0.01, seed: 3));
        Assert.Equal([7, 3, 1], Enumerable.Range(0, 3).Select(c => small.Count(i => labels[i] == c)));   // round(1 % of 700, 250, 50), at least 1
        Assert.Equal([70, 25, 5], Enumerable.Range(0, 3).Select(c => large.Count(i => labels[i] == c)));
        Assert.Subset(large.ToHashSet(), small.ToHashSet());
        Assert.Equal(Enumerable.Range(0, 1000), LabelBudget.Subsample(labels, 1.0, seed: 3));
        Assert.NotEqual(small, LabelBudget.Subsample(labels, 0.01, seed: 4));
        Assert.Equal("fraction", Assert.Throws<ArgumentException>(() => LabelBudget.Subsample(labels, 0, 0)).ParamName);
    }

    [Fact]
    public void The_speaker_task_splits_by_speech_with_every_fifth_speech_held_out()
    {
        var task = SpeakerTask.Build(Shakespeare.Value, ["ROMEO", "JULIET"], linesPerExample: 2);
        Assert.Empty(task.Train.Select(e => e.SpeechIndex).Intersect(task.Test.Select(e => e.SpeechIndex)));
        var speeches = ShakespeareSpeeches.Parse(Shakespeare.Value).Where(s => s.Speaker == "ROMEO").ToList();
        Assert.Contains(task.Test, e => e.SpeechIndex == speeches[4].Index && e.Label == 0);
        Assert.DoesNotContain(task.Test, e => e.SpeechIndex == speeches[3].Index);
        var longer = speeches.Where((s, k) => (k + 1) % 5 != 0).First(s => s.Lines.Length >= 3);
        Assert.Contains(task.Train, e => e.Text == longer.Lines[0].Trim() + " " + longer.Lines[1].Trim() && e.SpeechIndex == longer.Index);
        double share = task.Test.Count / (double)(task.Train.Count + task.Test.Count);
        Assert.InRange(share, 0.12, 0.28);
        Assert.Equal("speakers", Assert.Throws<ArgumentException>(() => SpeakerTask.Build(Play, ["ROMEO", "NOBODY"])).ParamName);
    }

    [Fact]
    public void Names_come_from_headings_and_skip_ordinary_words()
    {
        var task = NameTagTask.Build(Shakespeare.Value);
        Assert.Contains("Romeo", task.Names);
        Assert.Contains("Warwick", task.Names);
        Assert.DoesNotContain("King", task.Names);
        Assert.DoesNotContain("First", task.Names);
        Assert.All(task.Train.Concat(task.Test), l => Assert.Contains(NameTagTask.Name, l.Tags));
        Assert.Empty(task.Train.Select(l => l.SpeechIndex).Intersect(task.Test.Select(l => l.SpeechIndex)));
        Assert.Equal("Romeo", NameTagTask.Core("Romeo,"));
        Assert.Equal([0, 1, 0, 0], NameTagTask.CapitalRule(["Come", "Romeo,", "I", "say"]));
    }

    static (nn.Module Module, EncoderHandle Handle) TinyEncoder(int vocab = 20, int width = 8)
    {
        var embed = nn.Embedding(vocab, width);
        var block = new EncoderBlock(width, 2, 16);
        var both = nn.ModuleList<nn.Module>(embed, block);
        return (both, new EncoderHandle(both, (ids, mask) => block.forward(embed.forward(ids), mask.unsqueeze(1)), width));
    }

    [Fact]
    public void The_cls_head_reads_position_zero_and_the_token_head_every_position()
    {
        var (_, handle) = TinyEncoder();
        var cls = new ClsClassifier(handle, 3);
        cls.eval();
        var ids = randint(0, 20, [4, 6]);
        var mask = ones([4, 6], ScalarType.Bool);
        using var noGrad = no_grad();
        var hidden = handle.HiddenStates(ids, mask);
        var want = hidden[.., 0].matmul(cls.Head.weight!.t()) + cls.Head.bias!;
        Assert.True(cls.forward(ids, mask).allclose(want, 1e-5, 1e-6));
        var tagger = new TokenClassifier(TinyEncoder().Handle, 2);
        Assert.Equal([4L, 6L, 2L], tagger.forward(ids, mask).shape);
        Assert.Equal("classes", Assert.Throws<ArgumentException>(() => new ClsClassifier(handle, 1)).ParamName);
        Assert.Throws<ArgumentException>(() => ClsClassifier.ClsVector(zeros(4, 8)));
    }

    [Fact]
    public void The_loss_skips_ignored_labels()
    {
        var logits = randn(2, 3, 4);
        var labels = tensor(new long[] { 1, -100, 3, -100, -100, 0 }, [2, 3]);
        var keep = labels.ne(-100);
        var logp = logits.log_softmax(-1).gather(-1, labels.clamp_min(0).unsqueeze(-1)).squeeze(-1);
        double manual = -(logp * keep).sum().item<float>() / 3;
        var loss = FineTuner.Loss(logits, labels);
        Assert.Equal(manual, loss.Loss.item<float>(), 5);
        var (correct, counted) = FineTuner.Counts(logits, labels);
        Assert.Equal(3, counted);
        Assert.InRange(correct.item<long>(), 0, 3);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => FineTuner.Loss(randn(2, 4), labels)).ParamName);
    }

    [Fact]
    public void Baselines_and_f1_are_computed_from_the_labels()
    {
        Assert.Equal((1, 0.75), FineTuner.MajorityBaseline([1, 1, 0], [1, 1, 1, 0]));
        Assert.Equal(0.0, FineTuner.F1([0, 0, 0], [1, 0, 1], 1));
        Assert.Equal(2.0 * 1 / (2 * 1 + 1 + 1), FineTuner.F1([1, 1, 0], [1, 0, 1], 1), 10);
    }

    [Fact]
    public void Fine_tuning_a_tiny_model_learns_a_token_rule_through_the_training_loop()
    {
        // Task: is the token id even? Learnable from the token alone, so a few steps suffice.
        manual_seed(0);
        var ids = randint(3, 20, [64, 6]);
        ids[.., 0] = tensor(1L);
        var mask = ones([64, 6], ScalarType.Bool);
        var labels = ids.remainder(2).eq(0).to_type(ScalarType.Int64);
        labels[.., 0] = tensor(-100L);
        using var set = new EncodedSet(ids, mask, labels);
        var model = new TokenClassifier(TinyEncoder().Handle, 2, dropout: 0);
        var result = FineTuner.Train(model, set, set, new FineTuneOptions(Steps: 60, BatchSize: 16, LearningRate: 1e-2, EvalInterval: 20));
        Assert.Equal([0, 20, 40, 60], result.Curve.Select(c => c.Step));
        Assert.Equal(60, result.Losses.Count);
        Assert.True(result.Accuracy > 0.9, $"accuracy {result.Accuracy}");
        Assert.True(result.Losses[^1] < result.Losses[0]);
    }
}
