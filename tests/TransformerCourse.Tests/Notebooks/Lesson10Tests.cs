using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;
using TransformerCourse.Notebook;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 10 — The Encoder–Decoder Transformer.</summary>
public class Lesson10Tests
{
    const string Num = @"([-+]?\d[\d.]*(?:E[-+]?\d+)?)";
    const string Count = @"(\d{1,3}(?:,\d{3})*)";

    static ExecutedNotebook Lesson => ExecutedNotebook.Run("02-transformer-architecture/10-encoder-decoder.ipynb");

    static double Parse(string s) => double.Parse(s.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>A number printed with thousands separators ("63,082,496"), captured by the first group.</summary>
    static double Grouped(string pattern)
    {
        var m = Regex.Match(Lesson.Printed, pattern);
        Assert.True(m.Success, $"'{pattern}' not found in:\n{Lesson.Printed}");
        return Parse(m.Groups[1].Value);
    }

    [Fact]
    public void Runs_cleanly_within_its_budget()
    {
        Lesson.AssertRanCleanly();
        Assert.InRange(Parse(Regex.Match(Lesson.RunnerLog, @"done in ([\d.]+)s").Groups[1].Value), 0, 120);
    }

    [Fact]
    public void The_decoder_block_hides_the_future_and_the_padding()
    {
        Assert.Contains("cross-attention weights [2, 4, 5, 7] (B, H, L_t, L_s)", Lesson.Printed);
        Assert.Equal(0, Lesson.Number(@"weight above the diagonal of the self-attention \(the future\): " + Num));
        Assert.Equal(0, Lesson.Number(@"cross-attention weight on the padded source positions: " + Num));
        Assert.Equal(Grouped(@"decoder block parameters: module " + Count), Grouped(@"decoder block parameters: .*formula .* = " + Count));
        Assert.Equal(0, Lesson.Number(@"edit target position 3 → max change at positions 0–2: " + Num));
        Assert.True(Lesson.Number(@"at positions 3–4: " + Num) > 0.01);
        Assert.True(Lesson.Number(@"smallest max change at target position 0 over all 7 source positions: " + Num) > 0.001);
        // The decoder block written by hand from its own weights matches DecoderBlock.forward.
        Assert.True(Lesson.Number(@"max \|DecoderBlock.forward − by hand\| = " + Num) < 1e-6);
        Assert.Equal(0, Lesson.Number(@"edit padded source positions → max change anywhere: " + Num));
    }

    [Fact]
    public void The_shape_walk_through_reproduces_the_forward_pass()
    {
        foreach (var line in new[] { @"source mask\s+\[2, 1, 6\]", @"encoder block 1\s+\[2, 6, 512\].*\[2, 8, 6, 6\]", @"encoder block 6\s+\[2, 6, 512\]",
                     @"target mask\s+\[2, 5, 5\]", @"decoder block 1\s+\[2, 5, 512\].*self \[2, 8, 5, 5\], cross \[2, 8, 5, 6\]",
                     @"logits Y_N · Eᵀ\s+\[2, 5, 37000\]" })
            Assert.Matches(line, Lesson.Printed);
        Assert.True(Lesson.Number(@"max \|step by step − baseModel.forward\| = " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"max \|memory − baseModel.Encode\| = " + Num) < 1e-5);
    }

    [Fact]
    public void The_base_model_count_equals_the_closed_form_and_is_about_63_1_million()
    {
        double module = Grouped(@"counted from the module = " + Count);
        double closed = Grouped(@"counted from the module = [\d,]+, closed form = " + Count);
        Assert.Equal(closed, module);
        Assert.InRange(module, 63.0e6, 63.2e6);
        Assert.Contains("equal: True", Lesson.Printed);
        Assert.Contains("that is 63.1M parameters", Lesson.Printed);
        var table = Assert.Single(Lesson.Html, h => h.Contains("<table") && h.Contains("shared embedding E"));
        foreach (Match row in Regex.Matches(table, @"<tr><td>[^<]+</td><td>(\d+)</td><td>(\d+)</td>"))
            Assert.Equal(row.Groups[1].Value, row.Groups[2].Value);
    }

    [Fact]
    public void Explains_the_gap_to_65M_with_computed_numbers()
    {
        double v65 = Grouped(@"vocabulary that gives exactly 65.0M: V = " + Count);
        Assert.InRange(v65, 40_000, 41_500);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("three separate V") && h.Contains("minus 65M"));
        double bigHigh = Grouped(@"vocabulary that rounds to 213M: V from [\d,]+ to " + Count);
        double baseLow = Grouped(@"vocabulary that rounds to 65M \(base\): V from " + Count);
        Assert.True(bigHigh < baseLow, $"big {bigHigh} vs base {baseLow}");
        Assert.InRange(Grouped(@"big model with V = 37,000: " + Count), 214e6, 214.5e6);
        // "a little under the base model's 65M but over the big model's 213M"
        Assert.InRange(Grouped(@"counted from the module = " + Count), 62e6, 65e6);
        Assert.InRange(Grouped(@"big model with V = 37,000: " + Count), 213e6, 216e6);
        // "The small choices … together add about half a million … separate matrices overshoot by tens of millions"
        Assert.InRange(Grouped(@"the three small choices together add " + Count), 0.4e6, 0.7e6);
        double separate = Grouped(@"separate matrices add " + Count);
        Assert.InRange(separate + Grouped(@"counted from the module = " + Count) - 65e6, 10e6, 99e6);
        Assert.Contains("variants with V = 37,000 that round to 65M: none", Lesson.Printed);
        Assert.Contains("the two ranges overlap: False", Lesson.Printed);
    }

    [Fact]
    public void Draws_self_and_cross_attention_heatmaps_with_tokens()
    {
        Assert.True(Lesson.FigureCount("heatmap") >= 2);
        Assert.Contains(Lesson.Html, h => h.Contains("Decoder self-attention") && h.Contains("\"march\""));
        Assert.Contains(Lesson.Html, h => h.Contains("Cross-attention (untrained)") && h.Contains("\"march\"") && h.Contains("data-kind=\"heatmap\""));
        Assert.Contains("cross-attention [2, 4, 7, 11]", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("padded source") && h.Contains("&lt;pad&gt;") || h.Contains("padded source") && h.Contains("<pad>"));
        // "a lower triangle": nothing above the diagonal of the layer shown.
        Assert.Equal(0, Lesson.Number(@"layer 2 self-attention weight above the diagonal \(the future\), both examples, all heads: " + Num));
        // "the padded source positions of the second example get exactly zero"
        Assert.Equal(0, Lesson.Number(@"second example: weight on its \d+ padded source positions, all heads: " + Num));
        // "every real source token gets some weight in every head … averaged over the four heads, no weight reaches
        // twice the uniform value … in each head the largest weight is above twice uniform, but in no head three times"
        double smallest = Lesson.Number(@"untrained cross-attention .*smallest " + Num);
        double uniform = Lesson.Number(@"untrained cross-attention .*uniform would be " + Num);
        Assert.Equal(1.0 / 11, uniform, 3);
        Assert.True(smallest > 0.2 * uniform, $"{smallest} vs uniform {uniform}");
        Assert.True(Lesson.Number(@"single heads .*smallest weight in any head " + Num) > 0.1 * uniform);
        Assert.InRange(Lesson.Number(@"mean of heads\).*largest / uniform = " + Num), 1, 2);
        var heads = Regex.Matches(Regex.Match(Lesson.Printed, @"single heads \(layer 2, first example\): largest / uniform = ([^;]*);").Groups[1].Value, @"head \d " + Num)
            .Select(m => Parse(m.Groups[1].Value)).ToArray();
        Assert.Equal(4, heads.Length);
        Assert.All(heads, r => Assert.InRange(r, 2, 3));
        Assert.Equal(heads.Max(), Lesson.Number(@"single heads .*; at most " + Num), 2);
        Assert.Contains("every head above 2: True, every head below 3: True", Lesson.Printed);
    }

    [Fact]
    public void The_scaled_embedding_has_unit_variance_like_the_positions()
    {
        Assert.InRange(Lesson.Number(@"std of E·√d = " + Num), 0.98, 1.02);
        Assert.Contains("positional values lie in [-1, 1]", Lesson.Printed);
        // "comparable … RMS 1/√2 ≈ 0.71"
        Assert.InRange(Lesson.Number(@"RMS " + Num + "; ratio"), 0.70, 0.715);
        Assert.InRange(Lesson.Number(@"ratio of the two scales " + Num), 0.65, 0.75);
    }

    [Fact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your MyParameterCount — it still throws NotImplementedException.*PASS: your MyParameterCount is right"
            + @".*NOT YET: your MyCrossMask — it still throws NotImplementedException.*PASS: your MyCrossMask is right", Lesson.Printed);
    }
}
