using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 25 — Modern Building Blocks.</summary>
public class Lesson25Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("05-modern-variants/25-modern-building-blocks.ipynb");

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(3, "(../06-capstone-mini-gpt/26-building-mini-gpt.ipynb)");
        Assert.Contains("(24-mixture-of-experts.ipynb)", string.Concat(Lesson.Cells.ElementAt(3)["source"]!.AsArray().Select(l => (string?)l)));
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void Rope_scores_depend_only_on_the_offset_and_keep_lengths()
    {
        var scores = Regex.Matches(Lesson.Printed, @"query at +(\d+), key at +(\d+): q·k = " + Num);
        Assert.Equal(4, scores.Count);
        Assert.All(scores, m => Assert.Equal(5, int.Parse(m.Groups[2].Value) - int.Parse(m.Groups[1].Value)));
        var values = scores.Select(m => Parse(m.Groups[3].Value)).ToArray();
        Assert.True(values.Max() - values.Min() < 2e-6);
        Assert.True(Lesson.Number(@"offset 5 at four absolute positions: spread " + Num) < 1e-5);
        Assert.Contains("(tolerance 1e-5: equal)", Lesson.Printed);
        // "a different offset gives a different score": the three offsets from position 0 differ.
        var m0 = Regex.Match(Lesson.Printed, @"offsets 0, 1, 2 from position 0: q·k = " + Num + ", " + Num + ", " + Num);
        var offsets = new[] { 1, 2, 3 }.Select(g => Parse(m0.Groups[g].Value)).ToArray();
        Assert.True(offsets.Distinct().Count() == 3 && Math.Abs(offsets[0] - offsets[2]) > 0.01);
        Assert.True(Lesson.Number(@"largest change of a length " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"RoPE vs complex multiplication by e\^\(i·m·θ\): max gap " + Num) < 1e-10);
        Assert.True(Lesson.Number(@"largest spread along any diagonal n − m = const: " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"spread of all scores: " + Num) > 1);
        Assert.Contains(Lesson.Html, h => h.Contains("RoPE: score of one query at m with one key at n") && h.Contains("key position n"));
    }

    [LessonFact]
    public void Alibi_slopes_bias_and_positional_heatmaps()
    {
        Assert.Contains("H = 4: slopes 1/4, 1/16, 1/64, 1/256", Lesson.Printed);
        Assert.Contains("H = 8: slopes 1/2, 1/4, 1/8, 1/16, 1/32, 1/64, 1/128, 1/256", Lesson.Printed);
        Assert.Contains("-1.25 -1.00 -0.75 -0.50 -0.25  0.00", Lesson.Printed);   // last row of head 1: −(i − j)/4
        Assert.Contains("    0.00    −∞    −∞    −∞    −∞    −∞", Lesson.Printed);
        var near = Regex.Match(Lesson.Printed, @"query 15, weight on its 4 nearest keys: head 1 ([\d.]+), head 2 ([\d.]+), head 3 ([\d.]+), head 4 ([\d.]+)");
        var shares = Enumerable.Range(1, 4).Select(g => Parse(near.Groups[g].Value)).ToArray();
        Assert.True(shares[0] > shares[1] && shares[1] > shares[2] && shares[2] > shares[3] && shares[3] > 0.25, "steeper heads look more locally");
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("ALiBi alone") && h.Contains("head 4, slope 1/256"));
    }

    [LessonFact]
    public void Learned_rows_past_the_training_length_are_untrained_and_extrapolation_is_judged_against_noise()
    {
        Assert.True(Lesson.Number(@"rows 0–31 moved by up to " + Num) > 0.02);
        double shrink = Lesson.Number(@"rows 32–127 = " + Num + " × their initial values");
        Assert.InRange(shrink, 0.9, 1.0);
        Assert.True(Lesson.Number(@"\(max residual " + Num + @"\): weight decay only") < 1e-6);
        double unigram = Lesson.Number(@"unigram " + Num);
        var rows = Regex.Matches(Lesson.Printed, @"length +(\d+): learned ([\d.]+), ALiBi ([\d.]+); learned − ALiBi = ([-+][\d.]+) ± ([\d.]+) \(2 s.e., 8 paired batches\): (within noise|ALiBi lower|learned lower)");
        Assert.Equal(["32", "64", "128"], rows.Select(m => m.Groups[1].Value));
        foreach (Match m in rows)
        {
            double gap = Parse(m.Groups[4].Value), noise = Parse(m.Groups[5].Value);
            string expected = Math.Abs(gap) <= noise ? "within noise" : gap > 0 ? "ALiBi lower" : "learned lower";
            Assert.Equal(expected, m.Groups[6].Value);                       // the verdict follows from the printed numbers
            Assert.Equal(Parse(m.Groups[2].Value) - Parse(m.Groups[3].Value), gap, 2);
            Assert.True(Parse(m.Groups[3].Value) < unigram, "ALiBi beats the unigram baseline at every length");
        }
        // "ALiBi is ahead even at the training length."
        Assert.Equal("ALiBi lower", rows[0].Groups[6].Value);
        // "The learned model gets worse as the windows grow; ALiBi's loss stays close to its value at 32."
        var learnedLoss = rows.Select(m => Parse(m.Groups[2].Value)).ToArray();
        var alibiLoss = rows.Select(m => Parse(m.Groups[3].Value)).ToArray();
        Assert.True(learnedLoss[0] < learnedLoss[1] && learnedLoss[1] < learnedLoss[2]);
        Assert.True(alibiLoss.Max() - alibiLoss.Min() < 0.05);
        // The growth of the gap past the training length is judged against its own noise.
        var growth = Regex.Matches(Lesson.Printed, @"gap at +(\d+) minus gap at 32: ([-+][\d.]+) ± ([\d.]+): (within noise|learned positions lose more past the training length|ALiBi loses more past the training length)");
        Assert.Equal(["64", "128"], growth.Select(m => m.Groups[1].Value));
        foreach (Match m in growth)
        {
            double g = Parse(m.Groups[2].Value), noise = Parse(m.Groups[3].Value);
            Assert.Equal(Math.Abs(g) <= noise ? "within noise" : g > 0 ? "learned positions lose more past the training length" : "ALiBi loses more past the training length", m.Groups[4].Value);
        }
        Assert.Equal("learned positions lose more past the training length", growth[1].Groups[4].Value);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Validation loss vs evaluation length") && h.Contains("unigram baseline"));
    }

    [LessonFact]
    public void RmsNorm_matches_the_closed_form_and_layer_norm_on_centred_vectors()
    {
        // Checked by the properties the formula implies, not by retyping it (the exercise asks for the formula).
        Assert.True(Lesson.Number(@"each row keeps its direction \(max 1 − cosine " + Num) < 1e-6);
        Assert.True(Lesson.Number(@"has RMS 1 \(max \|RMS − 1\| " + Num) < 1e-6);
        Assert.True(Lesson.Number(@"x scaled by 50 gives the same output \(max gap " + Num) < 1e-6);
        Assert.True(Lesson.Number(@"the module = g ⊙ \(output with g = 1\) \(max gap " + Num) < 1e-6);
        Assert.Equal(4, Lesson.Count(": ok)"));
        Assert.DoesNotContain("FAILS", Lesson.Printed);
        Assert.True(Lesson.Number(@"centred vectors: RMSNorm vs LayerNorm \(g = 1, β = 0\): max gap " + Num) < 1e-5);
        Assert.True(Lesson.Number(@"before centring \(mean ≈ 2\): max gap " + Num) > 0.1);
        Assert.Contains("parameters at d = 64: LayerNorm 128, RMSNorm 64", Lesson.Printed);
    }

    [LessonFact]
    public void Swiglu_and_grouped_query_attention_are_checked()
    {
        Assert.True(Lesson.Number(@"SwiGLU module vs \(Swish\(xW\) ⊙ xV\) W2: max gap " + Num) < 1e-5);
        Assert.Contains("GELU network 4d wide 33,088, SwiGLU h = 171 32,832", Lesson.Printed);
        Assert.Contains("4 query heads, 4 key/value head(s): 16,384 parameters (2d² + 2d²·n_kv/H = 16,384: match), KV cache 512 bytes", Lesson.Printed);
        Assert.Contains("4 query heads, 2 key/value head(s): 12,288 parameters (2d² + 2d²·n_kv/H = 12,288: match), KV cache 256 bytes", Lesson.Printed);
        Assert.Contains("4 query heads, 1 key/value head(s): 10,240 parameters (2d² + 2d²·n_kv/H = 10,240: match), KV cache 128 bytes", Lesson.Printed);
        Assert.True(Lesson.Number(@"GQA \(2 kv heads\) vs multi-head attention with each K/V head repeated: max gap " + Num) < 1e-6);
        Assert.Contains("with each K/V head repeated: max gap", Lesson.Printed);
        Assert.DoesNotContain("DISAGREE", Lesson.Printed);
    }

    [LessonFact]
    public void A_llama_block_assembled_from_the_parts_matches_ModernBlock()
    {
        foreach (var name in new[] { "norm1.weight", "attn.q_proj.weight", "attn.k_proj.weight", "attn.v_proj.weight", "attn.o_proj.weight", "norm2.weight",
                     "ffn.linear1.weight", "ffn.linear_v.weight", "ffn.linear2.weight" })
            Assert.Contains("  " + name, Lesson.Printed);
        Assert.Contains("attn.k_proj.weight   32 × 64", Lesson.Printed);   // 2 kv heads of width 16: GQA inside the block
        Assert.Contains("ffn.linear1.weight   206 × 64", Lesson.Printed);
        Assert.True(Lesson.Number(@"block built from the parts vs ModernBlock: max gap " + Num) < 1e-5);
        Assert.Contains("vs ModernBlock: max gap", Lesson.Printed);
    }

    [LessonFact]
    public void Sliding_window_mask_reach_and_cache()
    {
        Assert.Contains("keys each query may see (row sums): 1 2 3 4 4 4 4 4 4 4 4 4; the formula min(i + 1, W) gives 1 2 3 4 4 4 4 4 4 4 4 4", Lesson.Printed);
        Assert.Contains("change token 0 of 24: the outputs at positions 0–6 move, the rest do not; L·(W − 1) = 6: agree", Lesson.Printed);
        Assert.Contains("32,768 tokens: full cache 4.00 GiB, window 0.50 GiB (8.0× smaller)", Lesson.Printed);
        Assert.Contains("4,096 tokens: full cache 0.50 GiB, window 0.50 GiB (1.0× smaller)", Lesson.Printed);
        Assert.Contains("reach of its last layer: 32 · (4096 − 1) = 131,040 tokens", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Sliding-window mask, W = 4") && h.Contains("query position"));
    }

    [LessonFact]
    public void Llama_and_gpt2_styles_compared_at_equal_budget_with_a_noise_threshold()
    {
        double budget = Lesson.Number(@"SwiGLU hidden width h = \d+; parameters [\d,]+ vs [\d,]+: " + Num + "%");
        Assert.InRange(budget, -1.0, 0.0);                                  // within the budget, less than 1 % below
        Assert.Contains("SwiGLU hidden width h = 206; parameters 108,160 vs 108,352", Lesson.Printed);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("position embedding") && h.Contains("LLaMA style (SwiGLU h = 206, 2 kv heads)"));
        double bigram = Lesson.Number(@"bigram " + Num), unigram = Lesson.Number(@"baselines on the validation split: uniform [\d.]+, unigram " + Num);
        var runs = Regex.Matches(Lesson.Printed, @"(GPT-2 style|LLaMA style), seed (\d): validation loss ([\d.]+), median step ([\d.]+) ms");
        Assert.Equal(4, runs.Count);
        Assert.All(runs, m => Assert.True(Parse(m.Groups[3].Value) < unigram, m.Value));
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("ms per step (median, mean of 2 seeds)"));
        var verdict = Regex.Match(Lesson.Printed, @"GPT-2 − LLaMA mean validation loss: ([-+][\d.]+); noise: seed spread ([\d.]+), evaluation ±([\d.]+) → threshold ([\d.]+): (within noise: no winner at this scale|LLaMA style lower|GPT-2 style lower)");
        Assert.True(verdict.Success, Lesson.Printed);
        double gap = Parse(verdict.Groups[1].Value), threshold = Parse(verdict.Groups[4].Value);
        Assert.Equal(Math.Max(Parse(verdict.Groups[2].Value), Parse(verdict.Groups[3].Value)), threshold, 3);
        Assert.Equal(Math.Abs(gap) <= threshold ? "within noise: no winner at this scale" : gap > 0 ? "LLaMA style lower" : "GPT-2 style lower", verdict.Groups[5].Value);
        Assert.True(Lesson.Number(@"LLaMA style / GPT-2 style time: " + Num + " \\(training steps\\)") > 0);
        Assert.True(Lesson.Number(@", " + Num + @" \(interleaved forward \+ backward\)") > 0);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("ms forward + backward (interleaved median)"));
        // "Each LLaMA-style seed ends below each GPT-2-style seed, and the gap between the means clears the threshold,
        // which comes from the seeds: the LLaMA-style model's two seeds differ by several times the evaluation noise."
        var losses = runs.ToLookup(m => m.Groups[1].Value, m => Parse(m.Groups[3].Value));
        Assert.True(losses["LLaMA style"].Max() < losses["GPT-2 style"].Min());
        Assert.Equal("LLaMA style lower", verdict.Groups[5].Value);
        Assert.Equal(Parse(verdict.Groups[2].Value), threshold, 3);
        Assert.True(Parse(verdict.Groups[2].Value) > 3 * Parse(verdict.Groups[3].Value));
        Assert.True(bigram < unigram);
        // "The paired gap has the same sign for both seeds, but its size changes by the printed factor."
        var perSeed = Regex.Match(Lesson.Printed, @"per seed \(same seed = same batches\), GPT-2 − LLaMA: seed 0 ([-+][\d.]+) ± ([\d.]+), seed 1 ([-+][\d.]+) ± ([\d.]+): (same sign, both beyond their noise|NOT the same sign); sizes differ ([\d.]+)×");
        Assert.True(perSeed.Success, Lesson.Printed);
        double g0 = Parse(perSeed.Groups[1].Value), g1 = Parse(perSeed.Groups[3].Value);
        Assert.Equal("same sign, both beyond their noise", perSeed.Groups[5].Value);
        Assert.True(Math.Sign(g0) == Math.Sign(g1) && Math.Abs(g0) > Parse(perSeed.Groups[2].Value) && Math.Abs(g1) > Parse(perSeed.Groups[4].Value));
        Assert.True(Math.Abs(Math.Max(Math.Abs(g0), Math.Abs(g1)) / Math.Min(Math.Abs(g0), Math.Abs(g1)) - Parse(perSeed.Groups[6].Value)) < 0.2);
        Assert.True(Parse(perSeed.Groups[6].Value) > 1.5, "a single seed gets the size wrong");
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"line\"") && h.Contains("Training loss (mean of the last 10 steps)"));
        Assert.Contains(Lesson.Html, h => h.Contains("data-kind=\"heatmap\"") && h.Contains("Trained LLaMA-style model") && h.Contains("key character") && h.Contains("layer 2, head 4"));
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(3, Lesson.Count(Exercise.FailMark));
        Assert.Equal(3, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your RmsNorm — .*placeholder.*PASS: your RmsNorm.*NOT YET: your AlibiSlopes — .*placeholder.*PASS: your AlibiSlopes"
            + @".*NOT YET: your WindowMask — .*placeholder.*PASS: your WindowMask", Lesson.Printed);
    }

    [LessonFact]
    public void Charts_have_titles_and_axis_titles()
    {
        Assert.Equal(4, Lesson.FigureCount("heatmap"));
        Assert.Equal(2, Lesson.FigureCount("line"));
    }
}
