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
        Assert.Contains(Lesson.Html, h => h.Contains("<table") && h.Contains("clip(ρ)") && h.Contains("<th>clip(ρ)&#183;A</th><th>min</th>") && h.Contains("<th>KL term</th>"));
        Assert.True(Lesson.Number(@"mean Σ_t \(ln π_old − ln π_ref\) = " + Num) > 0, "the KL penalty is no longer 0 in round 2");
        Assert.True(Lesson.Number(@"clipped tokens " + Num + @" % \(no gradient from them\)") > 0, "some tokens are clipped");
        // "the printed range of ratios is much wider than [0.8, 1.2]" (shared weights carry clipped tokens further)
        var range = Regex.Match(Lesson.Printed, @"after 6 more steps: mean ratio [\d.]+, range ([\d.]+)–([\d.]+)");
        Assert.True(range.Success);
        Assert.True(Parse(range.Groups[1].Value) < 0.5 && Parse(range.Groups[2].Value) > 1.5, range.Value);
        // The round-to-round change of the reward-model score is printed with its standard error and a verdict.
        var jump = Regex.Match(Lesson.Printed, @"round 1 ([-+][\d.]+), round 2 ([-+][\d.]+); change ([-+][\d.]+) \(standard error ([\d.]+)\): more than 3 standard errors: (yes|no)");
        Assert.True(jump.Success);
        Assert.Equal(Parse(jump.Groups[2].Value) - Parse(jump.Groups[1].Value), Parse(jump.Groups[3].Value), 1);
        Assert.InRange(Parse(jump.Groups[4].Value), 0.05, 5);
        Assert.Equal(Parse(jump.Groups[3].Value) > 3 * Parse(jump.Groups[4].Value) ? "yes" : "no", jump.Groups[5].Value);
    }

    [LessonFact]
    public void Dpo_checks_hold()
    {
        Assert.Contains("DPO loss of the 64 held-out pairs with π_θ = π_ref: 0.693147; ln 2 = 0.693147", Lesson.Printed);
        var betas = Regex.Matches(Lesson.Printed, @"β = ([\d.]+) *: ∂L/∂ln π\(y_w\) at the start ([-\d.]+) \(−β/2\); after the move:\r?\n +autograd .*tolerance 1e-6: (\w+)\)");
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
        Assert.Matches(@"held-out at step 0: DPO loss 0.693147 \(ln 2 = 0.693147\), margin 0.000, KL 0.000", Lesson.Printed);
        var runs = Regex.Matches(Lesson.Printed, @"β = (0.5|0.1), held-out after 150 steps \([\d.]+ s\): DPO loss ([\d.]+), reward margin ([-+][\d.]+), pairs ranked right ([\d.]+) %, KL to π_ref ([\d.]+) nats per completion")
            .ToDictionary(m => m.Groups[1].Value, m => (Loss: Parse(m.Groups[2].Value), Margin: Parse(m.Groups[3].Value), Accuracy: Parse(m.Groups[4].Value), Kl: Parse(m.Groups[5].Value)));
        Assert.Equal(2, runs.Count);
        foreach (var run in runs.Values)
        {
            Assert.True(run.Loss < Math.Log(2) - 0.3, $"held-out DPO loss {run.Loss}");
            Assert.True(run.Margin > 0 && run.Kl > 0);
            Assert.True(run.Accuracy > 80, $"held-out pairs ranked right {run.Accuracy} % (chance 50 %)");
        }
        // The prose: with β = 0.1 the policy drifts several times further from the reference.
        Assert.True(runs["0.1"].Kl > 2 * runs["0.5"].Kl, $"KL {runs["0.1"].Kl} vs {runs["0.5"].Kl}");
        // "With either β the loss keeps pulling long after 90 % of the pairs are ranked right": ≥ 90 % reached well
        // before the last step, and the held-out KL grew several-fold after it.
        var ranked = Regex.Matches(Lesson.Printed, @"β = (0.5|0.1): ≥ 90 % of held-out pairs ranked right first at step (\d+) \(KL ([\d.]+) nats\); KL at step 150: ([\d.]+) nats \(([\d.]+)×\)")
            .ToDictionary(m => m.Groups[1].Value, m => (Step: int.Parse(m.Groups[2].Value), KlThen: Parse(m.Groups[3].Value), KlEnd: Parse(m.Groups[4].Value)));
        Assert.Equal(2, ranked.Count);
        foreach (var (beta, r) in ranked)
        {
            Assert.True(r.Step <= 75, $"β = {beta} reached 90 % at step {r.Step}");
            Assert.True(r.KlEnd > 2 * r.KlThen, $"β = {beta}: KL {r.KlThen} → {r.KlEnd}");
        }
        Assert.Contains(Lesson.Html, h => h.Contains("DPO: implicit reward margin during training") && h.Contains("β = 0.1, held-out pairs"));
        Assert.Contains(Lesson.Html, h => h.Contains("DPO: KL divergence from the reference during training") && h.Contains("training step"));
    }

    [LessonFact]
    public void The_style_share_rises_against_the_reference_baseline_and_beta_limits_the_drift()
    {
        var rows = Regex.Matches(Lesson.Printed, @"(reference π_ref|DPO, β = 0.5|DPO, β = 0.1) +all lower case +(\d+)/200 \([\d.]+ %\), reward-model score ([-+][\d.]+), sample KL ([-\d.]+) nats, ln π_ref ([-\d.]+)/char, 4 repeated letters in (\d+)")
            .ToDictionary(m => m.Groups[1].Value, m => (Count: int.Parse(m.Groups[2].Value), Score: Parse(m.Groups[3].Value), Kl: Parse(m.Groups[4].Value),
                LogProb: Parse(m.Groups[5].Value), Repeats: int.Parse(m.Groups[6].Value)));
        Assert.Equal(3, rows.Count);
        var (reference, strict, loose) = (rows["reference π_ref"], rows["DPO, β = 0.5"], rows["DPO, β = 0.1"]);
        Assert.Contains("the reference's count matches section 1", Lesson.Printed);
        Assert.Contains($"({reference.Count}/200): yes", Lesson.Printed);
        Assert.Equal(0.0, reference.Kl, 6);
        // "With β = 0.5, DPO raised the share well beyond sampling noise, and the reward model agrees."
        Assert.True(strict.Count > reference.Count + 40, $"{reference.Count} → {strict.Count}");
        Assert.Contains("DPO, β = 0.5: +", Lesson.Printed);
        Assert.Matches(@"DPO, β = 0.5: \+[\d.]+ points against the reference \(standard error [\d.]+\): more than 3 standard errors: yes", Lesson.Printed);
        Assert.True(strict.Score > reference.Score);
        // "The price is the KL ... the reference finds its text less likely."
        Assert.True(strict.Kl > 0 && strict.LogProb < reference.LogProb);
        // "β = 0.1 drifted several times further; more of its samples contain runs of four identical letters; the
        // reference finds them far less likely; it wrote fewer lower-case completions than β = 0.5."
        Assert.True(loose.Kl > 2 * strict.Kl, $"sample KL {loose.Kl} vs {strict.Kl}");
        Assert.True(loose.Repeats > strict.Repeats && loose.Repeats > reference.Repeats, $"repeats {reference.Repeats}, {strict.Repeats}, {loose.Repeats}");
        Assert.True(loose.LogProb < strict.LogProb - 0.3);
        Assert.True(loose.Count < strict.Count);
        Assert.Contains("β = 0.5 stays closer to the reference than β = 0.1: yes; and writes more lower-case completions: yes", Lesson.Printed);
        // Closed-form baselines for the KL price: −ln p for π_ref given lower case, 1 − (1 − p)⁴ at KL ≤ ln 4 − 3/4 for best-of-4.
        double p = reference.Count / 200.0;
        Assert.Equal(-Math.Log(p), Lesson.Number(@"π_ref given lower case 100 % at KL " + Num), 2);
        Assert.Equal(100 * (1 - Math.Pow(1 - p, 4)), Lesson.Number(@"best of 4 by a perfect judge " + Num), 1);
        Assert.Equal(Math.Log(4) - 0.75, Lesson.Number(@" % at KL ≤ " + Num), 2);
        Assert.Contains($"DPO β = 0.5 pays more KL than π_ref given lower case: {(strict.Kl > -Math.Log(p) ? "yes" : "no")}", Lesson.Printed);
        Assert.Contains($"beats best-of-4's share: {(strict.Count / 200.0 > 1 - Math.Pow(1 - p, 4) ? "yes" : "no")}", Lesson.Printed);
        Assert.True(Lesson.FigureCount("bar") >= 1);
        Assert.Contains(Lesson.Html, h => h.Contains("Share of completions written all in lower case") && h.Contains("share of completions") && h.Contains("DPO, β = 0.1"));
    }

    [LessonFact]
    public void Exercise_checks_fail_on_placeholders_and_pass_on_solutions()
    {
        Assert.Equal(2, Lesson.Count(Exercise.FailMark));
        Assert.Equal(2, Lesson.Count(Exercise.PassMark));
        Assert.Matches(@"(?s)NOT YET: your DpoLoss — .*placeholder.*PASS: your DpoLoss.*NOT YET: your RewardModelLoss — .*placeholder.*PASS: your RewardModelLoss", Lesson.Printed);
    }
}
