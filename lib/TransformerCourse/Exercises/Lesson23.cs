using TorchSharp;
using TransformerCourse.Attention;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 23 (Flash Attention): the online-softmax merge and the running-output update.</summary>
public static class Lesson23
{
    /// <summary>
    /// Exercise 1: merge the softmax states (row max, row sum of exp(score − max)) of two blocks of the same rows
    /// into the state of both blocks together. Probed on large logits, empty (all −∞) blocks, equal maxima and
    /// rows where both blocks are empty.
    /// </summary>
    public static Verdict MergeStates(Func<Tensor, Tensor, Tensor, Tensor, (Tensor Max, Tensor Sum)> yours) => Check("your MergeStates",
        "go back to the section \"The online softmax\": each sum was measured against its own block's maximum; what must happen to it once the maximum of both blocks is known, and what if a block had no scores at all?",
        () =>
        {
            foreach (var (name, a, b) in MergeCases())
            {
                using var scope = NewDisposeScope();
                var (ma, la) = OnlineSoftmax.OfBlock(a);
                var (mb, lb) = OnlineSoftmax.OfBlock(b);
                var (wantMax, wantSum) = OnlineSoftmax.Merge(ma, la, mb, lb);
                var (gotMax, gotSum) = Forbidding(["OnlineSoftmax.Merge"], () => yours(ma.clone(), la.clone(), mb.clone(), lb.clone()));
                string where = $"for {name}";
                ExpectShape(gotMax, [.. wantMax.shape], $"{where} the merged max");
                ExpectShape(gotSum, [.. wantSum.shape], $"{where} the merged sum");
                Expect(!HasNaNWhereFinite(gotMax, wantMax) && !HasNaNWhereFinite(gotSum, wantSum),
                    $"{where} it returns NaN. A block with no allowed score has max −∞, and −∞ − (−∞) is NaN: that block must simply contribute nothing.");
                Expect(SameWithInfinities(gotMax, wantMax), $"{where} the merged max is not the larger of the two blocks' maxima.");
                if (Close(gotSum, wantSum)) continue;
                var safe = OnlineSoftmax.Finite(wantMax);
                Expect(!Close(gotSum, la + lb), $"{where} the sums are added as they are, but each was computed against its own block's maximum: both must be brought to the merged maximum first.");
                Expect(!Close(gotSum, la + lb * (mb - safe).exp()), $"{where} the first block's sum is not rescaled: it still counts exp(s − m_a), not exp(s − m).");
                Expect(!Close(gotSum, la * (ma - safe).exp() + lb), $"{where} the second block's sum is not rescaled: it still counts exp(s − m_b), not exp(s − m).");
                Expect(!Close(gotSum, la * (safe - ma).exp() + lb * (safe - mb).exp()), $"{where} the rescaling factors point the wrong way (they grow when the maximum grows).");
                Expect(false, $"{where} the merged sum is not the sum of exp(s − m) over both blocks.");
            }
        });

    /// <summary>
    /// Exercise 2: one step of blocked attention. Given the running (max, sum, unnormalised output) of the key blocks
    /// seen so far and the next block's scores (rows, block) and values (block, d), return the state after the block.
    /// </summary>
    public static Verdict UpdateOutput(Func<Tensor, Tensor, Tensor, Tensor, Tensor, (Tensor Max, Tensor Sum, Tensor Output)> yours) => Check("your UpdateOutput",
        "go back to the section \"Tiling: the running output\": the output so far is a weighted sum measured against the old maximum, just like the running sum; and it stays unnormalised until the last block.",
        () =>
        {
            foreach (var (name, m, l, o, s, v) in UpdateCases())
            {
                using var scope = NewDisposeScope();
                var (wm, wl, wo) = OnlineSoftmax.Update(m, l, o, s, v);
                var (gm, gl, go) = Forbidding(["OnlineSoftmax.Update", "OnlineSoftmax.Merge"], () => yours(m.clone(), l.clone(), o.clone(), s.clone(), v.clone()));
                string where = $"for {name}";
                ExpectShape(gm, [.. wm.shape], $"{where} the new max");
                ExpectShape(gl, [.. wl.shape], $"{where} the new sum");
                ExpectShape(go, [.. wo.shape], $"{where} the new output");
                Expect(!HasNaNWhereFinite(gm, wm) && !HasNaNWhereFinite(gl, wl) && !HasNaNWhereFinite(go, wo),
                    $"{where} it returns NaN. Before the first key (max −∞), or for a block whose scores are all −∞, exp(−∞ − (−∞)) is NaN: subtract a finite stand-in where the maximum is still −∞.");
                Expect(SameWithInfinities(gm, wm), $"{where} the new max is not the larger of the old max and the block's largest score.");
                var safe = OnlineSoftmax.Finite(wm);
                var rescale = (m - safe).exp();
                var p = (s - safe.unsqueeze(-1)).exp();
                var pv = p.matmul(v);
                bool sumOk = Close(gl, wl), outOk = Close(go, wo);
                Expect(!(outOk && Close(gl, l + p.sum([-1L])) && !sumOk), $"{where} the old sum is not rescaled by exp(m − m′) when the maximum changes.");
                if (sumOk && outOk) continue;
                Expect(!Close(go, o + pv), $"{where} the old output is not rescaled: it was built with weights exp(s − m) and must be brought to the new maximum m′, like the sum.");
                Expect(!Close(go, wo / wl.masked_fill(wl.eq(0), 1).unsqueeze(-1)),
                    $"{where} the output is already divided by the sum. Keep it unnormalised while blocks are still coming; divide once, after the last block.");
                Expect(!Close(go, o * rescale.unsqueeze(-1) + (s - OnlineSoftmax.Finite(m).unsqueeze(-1)).exp().matmul(v)),
                    $"{where} the new block's weights are measured against the old maximum m instead of the new one m′.");
                Expect(sumOk, $"{where} the new sum is not the rescaled old sum plus the block's Σ exp(s − m′).");
                Expect(false, $"{where} the new output is not the rescaled old output plus the block's weights times its values.");
            }
        });

    static IEnumerable<(string Name, Tensor A, Tensor B)> MergeCases()
    {
        var gen = new Generator(23);                             // its own generator: the learner's seed is left alone
        Tensor R(long rows, long cols, double scale) => randn([rows, cols], dtype: ScalarType.Float64, generator: gen) * scale;
        Tensor Inf(long rows, long cols) => full(rows, cols, double.NegativeInfinity, dtype: ScalarType.Float64);
        yield return ("two ordinary blocks (3 rows)", R(3, 4, 1), R(3, 5, 1));
        yield return ("a second block with much larger scores", R(3, 4, 1), R(3, 4, 1) + 8);
        yield return ("a first block with much larger scores", R(2, 6, 1) + 8, R(2, 3, 1));
        yield return ("large logits (around 1000)", R(3, 4, 5) + 1000, R(3, 4, 5) + 1002);
        yield return ("an empty second block (all −∞)", R(3, 4, 1), Inf(3, 4));
        yield return ("an empty first block (all −∞)", Inf(2, 3), R(2, 3, 1));
        yield return ("rows where both blocks are empty", Inf(2, 3), cat([Inf(1, 3), R(1, 3, 1)], 0));
        var same = R(3, 4, 1);
        yield return ("equal maxima (the second block is the first one reversed)", same, same.flip(-1));
    }

    static IEnumerable<(string Name, Tensor M, Tensor L, Tensor O, Tensor S, Tensor V)> UpdateCases()
    {
        var gen = new Generator(23);
        const long rows = 3, block = 4, d = 2;
        Tensor R(long r, long c, double scale = 1) => randn([r, c], dtype: ScalarType.Float64, generator: gen) * scale;
        Tensor Inf(long r, long c) => full(r, c, double.NegativeInfinity, dtype: ScalarType.Float64);
        var start = (M: full(rows, double.NegativeInfinity, dtype: ScalarType.Float64), L: zeros(rows, dtype: ScalarType.Float64), O: zeros(rows, d, dtype: ScalarType.Float64));
        (Tensor, Tensor, Tensor) After(Tensor s, Tensor v) => OnlineSoftmax.Update(start.M, start.L, start.O, s, v);
        var (m1, l1, o1) = After(R(rows, block), R(block, d));
        yield return ("the first block (nothing seen yet: max −∞, sum 0, output 0)", start.M, start.L, start.O, R(rows, block), R(block, d));
        yield return ("a block whose scores are larger than everything seen", m1, l1, o1, R(rows, block) + 6, R(block, d));
        yield return ("a block whose scores are smaller than everything seen", m1, l1, o1, R(rows, block) - 6, R(block, d));
        var (m2, l2, o2) = After(R(rows, block, 3) + 500, R(block, d));
        yield return ("large logits (around 500)", m2, l2, o2, R(rows, block, 3) + 503, R(block, d));
        yield return ("a fully masked block (all −∞)", m1, l1, o1, Inf(rows, block), R(block, d));
        yield return ("a fully masked row: nothing seen and a masked block", start.M, start.L, start.O, cat([Inf(1, block), R(rows - 1, block)], 0), R(block, d));
    }

    static bool HasNaNWhereFinite(Tensor got, Tensor want) =>
        got.isnan().logical_and(want.isnan().logical_not()).any().item<bool>();

    static bool SameWithInfinities(Tensor got, Tensor want)
    {
        using var g = got.detach().to_type(ScalarType.Float64);
        using var w = want.detach().to_type(ScalarType.Float64);
        var bothInf = g.isneginf().eq(w.isneginf()).all().item<bool>();
        return bothInf && Close(g.masked_fill(w.isneginf(), 0), w.masked_fill(w.isneginf(), 0));
    }

    static bool Close(Tensor got, Tensor want)
    {
        if (!got.shape.SequenceEqual(want.shape)) return false;
        using var g = got.detach().to_type(ScalarType.Float64).cpu();
        using var w = want.detach().to_type(ScalarType.Float64).cpu();
        return g.allclose(w, rtol: 1e-6, atol: 1e-9);
    }
}
