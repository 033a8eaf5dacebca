using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;
using TransformerCourse.Notebook;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 9 — The Feed-Forward Network and the Transformer Block.</summary>
public class Lesson09Tests
{
    const string Num = @"([-+]?\d[\d.]*(?:E[-+]?\d+)?)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("02-transformer-architecture/09-feed-forward-and-block.ipynb");

    static string Source(System.Text.Json.Nodes.JsonObject cell) => cell["source"] is System.Text.Json.Nodes.JsonArray lines
        ? string.Concat(lines.Select(l => (string?)l)) : (string?)cell["source"] ?? "";

    static double Parse(string s) => double.Parse(s.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [Fact]
    public void Runs_cleanly_within_its_budget()
    {
        Lesson.AssertRanCleanly();
        Assert.InRange(Parse(Regex.Match(Lesson.RunnerLog, @"done in ([\d.]+)s").Groups[1].Value), 0, 120);
    }

    [Fact]
    public void The_feed_forward_network_is_the_formula_and_acts_on_each_position_alone()
    {
        Assert.True(Lesson.Number(@"max \|module − formula\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"max \|whole sequence − one position at a time\| = " + Num) < 1e-5);
        var changes = Regex.Match(Lesson.Printed, @"after editing position 2: \[([^\]]+)\]").Groups[1].Value
            .Split(", ").Select(Parse).ToArray();
        Assert.Equal(5, changes.Length);
        Assert.All(new[] { 0, 1, 3, 4 }, i => Assert.Equal(0, changes[i]));
        Assert.True(changes[2] > 0.01);
    }

    [Fact]
    public void Plots_the_activations_and_checks_gelu()
    {
        Assert.True(Lesson.Number(@"max \|GELU by the erf formula − nn.functional.gelu\| = " + Num) < 1e-5);
        Assert.InRange(Lesson.Number(@"max \|GELU tanh approximation − exact GELU\| on \[−4, 4\] = " + Num), 1e-5, 1e-3);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Activation functions") && h.Contains("SiLU"));
        Assert.True(Lesson.FigureCount("line") >= 3);
        // "GELU and Swish dip slightly below zero and still pass a gradient back" (at z = −1; ReLU's slope is 0 there).
        Assert.InRange(Lesson.Number(@"minimum of GELU = " + Num), -0.3, -0.01);
        Assert.InRange(Lesson.Number(@"of Swish = " + Num), -0.4, -0.01);
        Assert.Equal(0, Lesson.Number(@"slopes: ReLU " + Num));
        Assert.True(Math.Abs(Lesson.Number(@"slopes: .*GELU " + Num)) > 0.01);
        Assert.True(Math.Abs(Lesson.Number(@"slopes: .*Swish " + Num)) > 0.01);
        // "approach each other as |z| grows: at z = ±4 GELU is within 1e-3 of ReLU, Swish still about 0.07 away".
        Assert.InRange(Lesson.Number(@"distance from ReLU at z = ±4: GELU " + Num), 0, 1e-3);
        Assert.InRange(Lesson.Number(@"distance from ReLU at z = ±4: GELU [^,]+, Swish " + Num), 0.06, 0.08);
        // The gated unit: shut for negative gate input, open for positive.
        Assert.True(Lesson.Number(@"largest \|output\| with a ≤ −1 \(gate shut\): " + Num) < 0.9);
        Assert.True(Lesson.Number(@"with a = 3: " + Num) > 8);
        Assert.Contains(Lesson.Html, h => h.Contains("A SwiGLU unit") && h.Contains("gate input"));
    }

    [Fact]
    public void SwiGlu_with_the_matched_width_has_the_relu_parameter_count()
    {
        Assert.Contains("ReLU FFN of the base model: 2·512·2048 + 2048 + 512 = 2,099,712 parameters", Lesson.Printed);
        Assert.Equal(1367, Lesson.Number(@"biases included: h = 2099712 / \(3·512\) = [\d.]+ → (\d+)"));
        Assert.Contains("→ 1367 (a whole number: True)", Lesson.Printed);
        Assert.Contains("SwiGLU with h = 1367: 2,099,712 parameters, 0 against ReLU", Lesson.Printed);
        Assert.Contains("module counts equal the formulas for all four: True", Lesson.Printed);
        Assert.Contains("rounded up to a multiple of 256 → 11008; equals the published 11008: True", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("SwiGLU, matched width"));
    }

    [Fact]
    public void Dropout_zeroes_and_rescales_in_training_and_is_the_identity_in_evaluation()
    {
        Assert.InRange(Lesson.Number(@"train mode: share of zeros = " + Num), 0.095, 0.105);
        Assert.Equal(1 / 0.9, Lesson.Number(@"surviving value = " + Num), 3);
        Assert.InRange(Lesson.Number(@"train mode: .*, mean = " + Num), 0.99, 1.01);
        Assert.Equal(0, Lesson.Number(@"eval mode:  share of zeros = " + Num));
        Assert.Equal(0, Lesson.Number(@"eval mode: .*max \|output − input\| = " + Num));
        Assert.True(Lesson.Number(@"max difference in train mode = " + Num) > 0);
        Assert.Equal(0, Lesson.Number(@"in eval mode = " + Num));
    }

    [Fact]
    public void The_from_scratch_block_matches_the_library()
    {
        Assert.True(Lesson.Number(@"max \|EncoderBlock − from scratch\| = " + Num) < 1e-5);
        Assert.Contains("block: [3, 7, 64] → [3, 7, 64]", Lesson.Printed);
        Assert.Contains("after 6 blocks: [3, 7, 64]", Lesson.Printed);
        // Post-LN output: per-token mean ≈ 0 and std ≈ 1.
        Assert.InRange(Lesson.Number(@"per-token mean of the output: " + Num), 0, 1e-5);
        Assert.InRange(Lesson.Number(@"std: " + Num + " on average"), 0.99, 1.01);
    }

    [Fact]
    public void Block_parameters_from_the_module_equal_the_formulas()
    {
        Assert.Contains("block parameters: module 3,152,384, 12d² + 13d = 3,152,384, EncoderBlock.ParameterCount = 3,152,384, equal: True", Lesson.Printed);
        Assert.InRange(Lesson.Number(@"the FFN's share of the block's parameters: " + Num + " %"), 66, 67);
        var table = Assert.Single(Lesson.Html, h => h.Contains("<table") && h.Contains("whole block") && h.Contains("parameters (module)"));
        foreach (Match row in Regex.Matches(table, @"<tr><td>[^<]+</td><td>[^<]+</td><td>(\d+)</td><td>(\d+)</td>"))
            Assert.Equal(row.Groups[1].Value, row.Groups[2].Value);
        Assert.Equal(1, Lesson.FigureCount("bar"));
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"bar\"") && h.Contains("\"log\"") && h.Contains("part of the block"));
    }

    [Fact]
    public void Block_flops_from_the_module_equal_the_formula()
    {
        var rows = Regex.Matches(Lesson.Printed, @"n = +(\d+): FLOPs from the module = " + Num + ", by formula = " + Num).ToList();
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal(Parse(r.Groups[2].Value), Parse(r.Groups[3].Value)));
        // 24·n·d² + 4·n²·d at n = 128, d = 512.
        Assert.Equal(24.0 * 128 * 512 * 512 + 4.0 * 128 * 128 * 512, Parse(rows[1].Groups[2].Value), 1e-4 * 8.4e8);
        Assert.Contains("module count equals formula at every length: True", Lesson.Printed);
        // "Each parameter costs two FLOPs per token": measured per-token FLOPs at n = 32 within 5 % of 2 × parameters.
        Assert.InRange(Lesson.Number(@"at n = 32: [\d.]+ MFLOP, ratio " + Num), 0.95, 1.05);
        Assert.Contains("within 5 %: True", Lesson.Printed);
        // "The number of heads does not appear": the same counts for H = 1, 8, 16.
        var byHeads = Regex.Matches(Lesson.Printed, @"H = +(\d+): parameters ([\d,]+), FLOPs at n = 128: " + Num).ToList();
        Assert.Equal(3, byHeads.Count);
        Assert.Single(byHeads.Select(m => m.Groups[2].Value).Distinct());
        Assert.Single(byHeads.Select(m => m.Groups[3].Value).Distinct());
        Assert.Contains("n = 6d = 3072 tokens", Lesson.Printed);
        // Prose: up to n = 2d the FFN does more than half of the FLOPs; the hook says "for all but long sequences".
        Assert.Contains("the FFN does more than half of the FLOPs at n = 32, 128, 512, not at n = 2048 (break-even n = 2d = 1024)", Lesson.Printed);
    }

    [Fact]
    public void Attention_weights_dominate_memory_at_long_lengths_which_is_what_flash_attention_saves()
    {
        var rows = Regex.Matches(Lesson.Printed, @"n = +(\d+): attention weights +" + Num + " MiB, FFN hidden +" + Num + " MiB, block input +" + Num + " MiB").ToList();
        Assert.Equal(4, rows.Count);
        var longest = rows[^1];
        Assert.Equal(2048, Parse(longest.Groups[1].Value));
        Assert.Equal(8.0 * 2048 * 2048 * 4 / (1 << 20), Parse(longest.Groups[2].Value), 1);
        Assert.True(Parse(longest.Groups[2].Value) > 10 * Parse(longest.Groups[4].Value), "\"far larger than the block's input\"");
        // "outgrow the FFN's hidden activation from n = d_ff/H, long before the FLOP crossover at 6d".
        Assert.Contains("memory: H·n² > n·d_ff from n = d_ff / H = 256; FLOPs: 4n²d > 24nd² from n = 6d = 3072; memory crosses 12× sooner", Lesson.Printed);
        Assert.True(Parse(rows[1].Groups[2].Value) < Parse(rows[1].Groups[3].Value), "at n = 128 the attention weights are still smaller than the FFN hidden");
        Assert.True(Parse(rows[2].Groups[2].Value) > Parse(rows[2].Groups[3].Value), "at n = 512 they are larger");
        var flash = Assert.Single(Lesson.Cells.Select(Source), text => text.Contains("Flash Attention (Dao et al., 2022"));
        Assert.Contains("does **not** reduce the FLOPs", flash);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("FLOPs (module)") && h.Contains("FLOPs (formula"));
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your PreLnSwiGluStack — it still throws NotImplementedException.*PASS: your PreLnSwiGluStack is right"
            + @".*NOT YET: your SwiGluBlockFlops — it still throws NotImplementedException.*PASS: your SwiGluBlockFlops is right", Lesson.Printed);
    }

    [Fact]
    public void The_exercise_block_is_not_passed_off_as_LLaMA()
    {
        // The exercise's block keeps its attention biases and LayerNorms; LLaMA drops the biases and uses RMSNorm and RoPE.
        var task = Assert.Single(Lesson.Cells.Select(Source), text => text.Contains("## Try it yourself 1"));
        Assert.Contains("keeps its LayerNorms and its attention biases", task);
        Assert.Contains("drops the attention biases", task);
        Assert.Contains("RMSNorm", task);
        Assert.Contains("RoPE", task);
        Assert.DoesNotContain("LLaMA-style decoders differ from the block we counted in two ways", task);
    }
}
