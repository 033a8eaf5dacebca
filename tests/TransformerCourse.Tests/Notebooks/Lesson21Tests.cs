using System.Globalization;
using System.Text.RegularExpressions;
using TransformerCourse.Exercises;

namespace TransformerCourse.Tests.Notebooks;

/// <summary>Lesson 21 — RLHF.</summary>
public class Lesson21Tests
{
    const string Num = @"([-+]?[\d.]+(?:E[-+]?\d+)?)";

    protected virtual ExecutedNotebook Lesson => ExecutedNotebook.Run("04-gpt-decoders/21-rlhf.ipynb");

    static double Parse(string text) => double.Parse(text.Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture);

    [LessonFact]
    public void Runs_cleanly_with_slide_types_hidden_solutions_and_the_next_link()
    {
        Lesson.AssertRanCleanly();
        Lesson.AssertLessonShape(2, "(../05-modern-variants/22-vision-transformers.ipynb)");
        Assert.Contains("(20-in-context-learning.ipynb)", string.Concat(Lesson.Cells.ElementAt(3)["source"]!.AsArray().Select(l => (string?)l)));
    }

    [LessonFact]
    public void No_code_cell_prints_more_than_a_slide_holds()
    {
        Lesson.AssertEveryCellPrintsAtMost(13);
    }

    [LessonFact]
    public void Sequence_log_probs_agree_with_the_sampler()
    {
        Assert.True(Lesson.Number(@"step-by-step sum: max gap " + Num) < 1e-3);
        Assert.Contains("(tolerance 1e-3: agree)", Lesson.Printed);
        Assert.True(Lesson.Number(@"mean ln π_ref\(y\|x\) of a 20-character sample: " + Num) < 0);
    }

    [LessonFact]
    public void The_preference_set_is_built_and_split_as_described()
    {
        // "The reference writes in this style only part of the time."
        double share = Lesson.Number(@"reference policy: \d+ of 200 sampled completions are all lower case \(" + Num);
        Assert.InRange(share, 10, 90);
        Assert.Matches(@"360 prompts × 4 samples = 1440 completions, \d+ of them all lower case", Lesson.Printed);
        var split = Regex.Match(Lesson.Printed, @"prompts with one of each kind: (\d+) → (\d+) training pairs and (\d+) held-out pairs");
        Assert.True(split.Success);
        Assert.Equal(64, int.Parse(split.Groups[3].Value));
        Assert.Equal(int.Parse(split.Groups[1].Value), int.Parse(split.Groups[2].Value) + 64);
        Assert.True(int.Parse(split.Groups[2].Value) >= 100);
    }

    [LessonFact]
    public void Reward_model_starts_at_ln2_and_beats_chance_on_held_out_pairs()
    {
        Assert.Matches(@"before training: 0.693147; ln 2 = 0.693147: equal", Lesson.Printed);
        double accuracy = Lesson.Number(@"held-out preference accuracy " + Num);
        Assert.True(accuracy >= 80, $"held-out accuracy {accuracy} %");
        Assert.True(Lesson.Number(@"held-out loss " + Num) < Math.Log(2));
        double styled = Lesson.Number(@"mean reward " + Num + " for the lower-case ones");
        double other = Lesson.Number(@"for the lower-case ones, " + Num + " for the others");
        Assert.True(styled > other);
        Assert.True(Lesson.FigureCount("line") >= 4);
        Assert.Contains(Lesson.Html, h => h.Contains("Reward model: Bradley–Terry loss during training") && h.Contains("ln 2 (equal rewards)") && h.Contains("training step"));
    }

    [LessonFact]
    public void Ppo_pieces_are_shown_as_numbers_on_real_rollouts()
    {
        Assert.Matches(@"round 1: 64 rollouts from π_old = π_ref: mean reward-model score [-+][\d.]+, largest \|ln π_old − ln π_ref\| 0.0", Lesson.Printed);
        var steps = Regex.Matches(Lesson.Printed, @"step (\d): objective J ([-+][\d.]+), mean ratio ρ ([\d.]+), clipped tokens ([\d.]+) %");
        Assert.Equal(6, steps.Count);
        // "at step 1 π_θ = π_old, so every ρ = 1 and J = 0"
        Assert.Equal(1.0, Parse(steps[0].Groups[3].Value), 4);
        Assert.Equal(0.0, Parse(steps[0].Groups[2].Value), 4);
        Assert.Equal(0.0, Parse(steps[0].Groups[4].Value), 4);
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("clip(ρ)·A") && h.Contains("KL term −β(ln π_old − ln π_ref)"));
        Assert.True(Lesson.Number(@"mean Σ_t \(ln π_old − ln π_ref\) = " + Num) > 0, "the KL penalty is no longer 0 in round 2");
        Assert.True(Lesson.Number(@"clipped tokens " + Num + @" % \(no gradient from them\)") > 0, "some tokens are clipped");
    }

    [LessonFact]
    public void Dpo_checks_hold()
    {
        Assert.Contains("DPO loss of the 64 held-out pairs with π_θ = π_ref: 0.693147; ln 2 = 0.693147", Lesson.Printed);
        var betas = Regex.Matches(Lesson.Printed, @"β = ([\d.]+) *: ∂L/∂ln π\(y_w\) at the start ([-\d.]+) \(−β/2\);.*tolerance 1e-6: (\w+)\)");
        Assert.Equal(3, betas.Count);
        foreach (Match m in betas)
        {
            Assert.Equal(-Parse(m.Groups[1].Value) / 2, Parse(m.Groups[2].Value), 4);   // steeper with larger β
            Assert.Equal("agree", m.Groups[3].Value);
        }
        Assert.Contains(Lesson.Html, h => h.Contains("DPO loss of one pair against the log-ratio difference") && h.Contains("β = 0.5"));
    }

    [LessonFact]
    public void Dpo_training_starts_at_ln2_widens_the_margin_and_pays_in_kl()
    {
        Assert.Matches(@"held-out at step 0: DPO loss 0.69314\d \(ln 2 = 0.693147\), margin 0.000, KL 0.000", Lesson.Printed);
        double loss = Lesson.Number(@"steps \([\d.]+ s\): DPO loss " + Num);
        Assert.True(loss < Math.Log(2) - 0.1, $"held-out DPO loss {loss}");
        Assert.True(Lesson.Number(@"reward margin " + Num + ", KL") > 0);
        Assert.True(Lesson.Number(@"KL to π_ref " + Num + " nats per completion") > 0);
        Assert.True(Lesson.Number(@"ranked right by the implicit reward: " + Num) > 70);
        Assert.Contains(Lesson.Html, h => h.Contains("DPO: implicit reward margin during training") && h.Contains("held-out pairs"));
        Assert.Contains(Lesson.Html, h => h.Contains("DPO: KL divergence from the reference during training") && h.Contains("training step"));
    }

    [LessonFact]
    public void The_style_share_rises_against_the_reference_baseline()
    {
        var m = Regex.Match(Lesson.Printed, @"reference (\d+)/200 \([\d.]+ %\) → DPO policy (\d+)/200");
        Assert.True(m.Success);
        int before = int.Parse(m.Groups[1].Value), after = int.Parse(m.Groups[2].Value);
        Assert.True(after > before + 30, $"{before} → {after}");
        Assert.Contains("more than 3 standard errors: yes", Lesson.Printed);
        double rmBefore = Lesson.Number(@"reference samples " + Num + " → DPO samples");
        double rmAfter = Lesson.Number(@"→ DPO samples " + Num);
        Assert.True(rmAfter > rmBefore, "the reward model also scores the DPO samples higher");
        Assert.True(Lesson.Number(@"estimated from the 200 samples: " + Num) > 0);
        Assert.True(Lesson.FigureCount("bar") >= 1);
        Assert.Contains(Lesson.Html, h => h.Contains("Share of completions written all in lower case") && h.Contains("share of completions") && h.Contains("policy"));
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your DpoLoss — .*placeholder.*PASS: your DpoLoss.*NOT YET: your RewardModelLoss — .*placeholder.*PASS: your RewardModelLoss", Lesson.Printed);
    }
}
