using TorchSharp;
using TransformerCourse.Exercises;
using TransformerCourse.Generation;
using TransformerCourse.Tests.Library;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Exercises;

/// <summary>Lesson 17's checkers against the reference, the placeholder and the mistakes learners make.</summary>
public class Lesson17ExerciseTests : TorchTest
{
    // The reference top-p, written as a learner would (the notebook's hidden solution).
    static Tensor ReferenceTopP(Tensor logits, double p)
    {
        var probs = logits.softmax(-1);
        var (sorted, order) = probs.sort(descending: true);
        var before = sorted.cumsum(0) - sorted;
        var keepSorted = before < p;
        var keep = zeros_like(probs).index_put_(keepSorted.to_type(probs.dtype), order);
        var kept = probs * keep;
        return kept / kept.sum();
    }

    // Variants: a mistake applied to the sorted order (or to id order).
    static Func<Tensor, double, Tensor> TopPWith(bool keepCrossing = true, bool sort = true, bool renormalise = true, int extra = 0) => (logits, p) =>
    {
        var probs = logits.softmax(-1).data<double>().ToArray();
        var order = sort ? Enumerable.Range(0, probs.Length).OrderByDescending(i => probs[i]).ToArray() : Enumerable.Range(0, probs.Length).ToArray();
        var keep = new bool[probs.Length];
        double mass = 0;
        int k = 0;
        for (; k < order.Length; k++)
        {
            mass += probs[order[k]];
            if (!keepCrossing && mass >= p) break;
            keep[order[k]] = true;
            if (mass >= p) { k++; break; }
        }
        for (int e = 0; e < extra && k + e < order.Length; e++) keep[order[k + e]] = true;
        double total = renormalise ? probs.Where((_, i) => keep[i]).Sum() : 1;
        return tensor(probs.Select((x, i) => keep[i] ? x / total : 0).ToArray(), dtype: ScalarType.Float64);
    };

    [Fact]
    public void TopP_reference_passes() => Assert.True(Lesson17.TopP(ReferenceTopP).Passed);

    [Fact]
    public void TopP_plain_loop_reference_passes() => Assert.True(Lesson17.TopP(TopPWith()).Passed);

    [Fact]
    public void TopP_placeholder_is_told_nothing_was_cut()
    {
        var verdict = Lesson17.TopP((logits, p) => logits.softmax(-1));
        Assert.False(verdict.Passed);
        Assert.Contains("nothing was cut off", verdict.Feedback);
    }

    [Fact]
    public void Dropping_the_crossing_token_is_named()
    {
        var verdict = Lesson17.TopP(TopPWith(keepCrossing: false));
        Assert.False(verdict.Passed);
        Assert.Contains("carries the total past p is dropped", verdict.Feedback);
    }

    [Fact]
    public void Taking_tokens_in_id_order_is_named()
    {
        var verdict = Lesson17.TopP(TopPWith(sort: false));
        Assert.False(verdict.Passed);
        Assert.Contains("id order", verdict.Feedback);
    }

    [Fact]
    public void Forgetting_to_renormalise_is_named()
    {
        var verdict = Lesson17.TopP(TopPWith(renormalise: false));
        Assert.False(verdict.Passed);
        Assert.Contains("must be renormalised", verdict.Feedback);
    }

    [Fact]
    public void Keeping_one_token_too_many_is_named()
    {
        var verdict = Lesson17.TopP(TopPWith(extra: 1));
        Assert.False(verdict.Passed);
        Assert.Contains("one token too many", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_top_p_does_not_count()
    {
        var verdict = Lesson17.TopP((logits, p) => Decoding.TopP(logits, p));
        Assert.False(verdict.Passed);
        Assert.Contains("Decoding.TopP", verdict.Feedback);
    }

    [Fact]
    public void Returning_logits_instead_of_probabilities_is_named()
    {
        var verdict = Lesson17.TopP((logits, p) => logits.clone());
        Assert.False(verdict.Passed);
        Assert.Contains("not probabilities", verdict.Feedback);
    }

    // The reference penalty on a batch, written as a learner would (the notebook's hidden solution), and variants with one mistake.
    static Func<Tensor, long[][], double, Tensor> PenaltyWith(Func<int, long[][], long[]>? historyOf = null, Func<double, double, double>? rule = null, bool distinct = true) =>
        (logits, histories, penalty) =>
        {
            var result = logits.clone();
            for (int r = 0; r < histories.Length; r++)
            {
                var history = (historyOf ?? ((row, all) => all[row]))(r, histories);
                foreach (var id in distinct ? history.Distinct() : history)
                {
                    double z = result[r, id].item<double>();
                    result[r, id] = (rule ?? ((x, p) => x > 0 ? x / p : x * p))(z, penalty);
                }
            }
            return result;
        };

    [Fact]
    public void Penalty_reference_passes() => Assert.True(Lesson17.RepetitionPenalty(PenaltyWith()).Passed);

    [Fact]
    public void Penalty_placeholder_is_told_nothing_changed()
    {
        var verdict = Lesson17.RepetitionPenalty((logits, histories, penalty) => logits.clone());
        Assert.False(verdict.Passed);
        Assert.Contains("nothing changed for the tokens in the histories", verdict.Feedback);
    }

    [Fact]
    public void Dividing_negative_logits_is_named()
    {
        var verdict = Lesson17.RepetitionPenalty(PenaltyWith(rule: (x, p) => x / p));
        Assert.False(verdict.Passed);
        Assert.Contains("negative logits must be multiplied", verdict.Feedback);
    }

    [Fact]
    public void Penalising_every_occurrence_is_named()
    {
        var verdict = Lesson17.RepetitionPenalty(PenaltyWith(distinct: false));
        Assert.False(verdict.Passed);
        Assert.Contains("once per occurrence", verdict.Feedback);
    }

    [Fact]
    public void Using_every_history_for_every_row_is_named()
    {
        var verdict = Lesson17.RepetitionPenalty(PenaltyWith(historyOf: (_, all) => all.SelectMany(h => h).ToArray()));
        Assert.False(verdict.Passed);
        Assert.Contains("tokens of all the histories", verdict.Feedback);
    }

    [Fact]
    public void Using_row_0s_history_for_every_row_is_named()
    {
        var verdict = Lesson17.RepetitionPenalty(PenaltyWith(historyOf: (_, all) => all[0]));
        Assert.False(verdict.Passed);
        Assert.Contains("history of row 0", verdict.Feedback);
    }

    [Fact]
    public void Changing_the_input_in_place_is_named()
    {
        var verdict = Lesson17.RepetitionPenalty((logits, histories, penalty) =>
        {
            for (int r = 0; r < histories.Length; r++)
                foreach (var id in histories[r].Distinct())
                {
                    double z = logits[r, id].item<double>();
                    logits[r, id] = z > 0 ? z / penalty : z * penalty;
                }
            return logits;
        });
        Assert.False(verdict.Passed);
        Assert.Contains("changed the logits it was given", verdict.Feedback);
    }

    [Fact]
    public void Subtracting_the_penalty_is_named()
    {
        var verdict = Lesson17.RepetitionPenalty(PenaltyWith(rule: (x, p) => x - p));
        Assert.False(verdict.Passed);
        Assert.Contains("subtracted", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_library_penalty_row_by_row_does_not_count()
    {
        var verdict = Lesson17.RepetitionPenalty((logits, histories, penalty) =>
            stack(histories.Select((h, r) => Decoding.RepetitionPenalty(logits[r], h, penalty)).ToArray()));
        Assert.False(verdict.Passed);
        Assert.Contains("Decoding.RepetitionPenalty", verdict.Feedback);
    }

    [Fact]
    public void Calling_DecodingSettings_for_top_p_does_not_count()
    {
        var verdict = Lesson17.TopP((logits, p) => new DecodingSettings(1.0, TopP: p).Distribution(logits));
        Assert.False(verdict.Passed);
        Assert.Contains("Decoding.TopP", verdict.Feedback);
    }

    [Fact]
    public void Returning_the_kept_mass_in_sorted_order_is_named()
    {
        // Right tokens and proportions, but left in sorted order instead of being put back at their ids.
        var verdict = Lesson17.TopP((logits, p) =>
        {
            var probs = logits.softmax(-1);
            var sorted = probs.sort(descending: true).Values;
            var keep = (sorted.cumsum(0) - sorted) < p;
            var kept = sorted * keep.to_type(sorted.dtype);
            return kept / kept.sum();
        });
        Assert.False(verdict.Passed);
        Assert.Contains("sorted order", verdict.Feedback);
    }

    [Fact]
    public void Calling_the_batch_library_penalty_does_not_count()
    {
        var verdict = Lesson17.RepetitionPenalty((logits, histories, penalty) => Decoding.RepetitionPenalty(logits, histories, penalty));
        Assert.False(verdict.Passed);
        Assert.Contains("Decoding.RepetitionPenalty", verdict.Feedback);
    }

    [Fact]
    public void Calling_DecodingSettings_for_the_penalty_does_not_count()
    {
        // Temperature 1 with the penalty gives the softmax of the penalised logits; its log recovers them up to a
        // constant per row, which is still the library doing the work.
        var verdict = Lesson17.RepetitionPenalty((logits, histories, penalty) =>
            new DecodingSettings(1.0, RepetitionPenalty: penalty).Distribution(logits, histories).log());
        Assert.False(verdict.Passed);
        Assert.Contains("Decoding.RepetitionPenalty", verdict.Feedback);
    }
}
