using TransformerCourse.MoE;
using static TorchSharp.torch;
using static TransformerCourse.Exercises.Exercise;

namespace TransformerCourse.Exercises;

/// <summary>Checks for lesson 24 (Mixture of Experts).</summary>
public static class Lesson24
{
    /// <summary>
    /// Exercise 1: the Switch load-balancing loss from router logits (tokens, experts): N · Σᵢ fᵢ · Pᵢ with fᵢ the share of
    /// tokens whose most probable expert is i (a count, no gradient) and Pᵢ the mean router probability of expert i.
    /// </summary>
    public static Verdict BalanceLoss(Func<Tensor, Tensor> yours) => Check("your BalanceLoss",
        "go back to the section \"The load-balancing loss\": what does each of the two factors measure, which one can carry a gradient, and what value should perfectly even routing give?",
        () =>
        {
            var generator = new Generator(24);
            var cases = new List<(string What, Tensor Logits)>
            {
                ("random logits for 12 tokens and 4 experts", randn([12, 4], generator: generator)),
                ("random logits for 7 tokens and 3 experts", randn([7, 3], generator: generator) * 2),
                ("random logits for 40 tokens and 8 experts", randn([40, 8], generator: generator)),
                ("logits that send all 10 tokens to expert 2 with almost all the probability (4 experts)", tensor(new float[] { 0, 0, 12, 0 }).repeat(10, 1)),
                ("random logits for 5 tokens and 6 experts", randn([5, 6], generator: generator) * 3),
            };
            foreach (var (what, logits) in cases)
            {
                long n = logits.shape[1];
                var probsOverExperts = logits.softmax(1);
                var f = MoeRouting.DispatchFraction(probsOverExperts.argmax(1), (int)n);
                var p = probsOverExperts.mean(new long[] { 0 });
                double want = MoeRouting.LoadBalancingLoss(probsOverExperts, probsOverExperts.argmax(1)).item<float>();

                var input = logits.detach().clone().requires_grad_(true);
                var answer = Forbidding(["MoeRouting.LoadBalancingLoss"], () => yours(input));
                Expect(answer is not null, $"for {what} it returns null.");
                Expect(answer!.numel() == 1, $"for {what} it returns a tensor of shape {Guard.Shape(answer)}; the loss is one number (sum over the experts).");
                double got = answer.to_type(ScalarType.Float64).item<double>();
                Expect(logits.allclose(input.detach()), $"for {what} it changed the logits it was given.");
                if (Math.Abs(got - want) > 1e-4)
                {
                    Expect(got != 0, $"for {what} it returns 0, but the loss is {want:0.0000}: the placeholder is still there, or nothing is summed.");
                    Expect(Math.Abs(got - want / n) > 1e-4,
                        $"for {what} it returns {got:0.0000} = {want:0.0000} / {n}: the factor N (the number of experts) is missing, so even routing would not give 1.");
                    double overTokens = Variant(logits.softmax(0), n);
                    Expect(Math.Abs(got - overTokens) > 1e-4,
                        $"for {what} it returns {got:0.0000}, the value you get with the softmax over the tokens: the router turns each token's logits into a distribution over the experts, so the softmax runs along the experts axis.");
                    double pTwice = n * (p * p).sum().item<float>();
                    Expect(Math.Abs(got - pTwice) > 1e-4,
                        $"for {what} it returns {got:0.0000} = N · Σ P·P: the mean probability is used where the share of tokens dispatched (f, counted from each token's first choice) belongs.");
                    double fTwice = n * (f * f).sum().item<float>();
                    Expect(Math.Abs(got - fTwice) > 1e-4,
                        $"for {what} it returns {got:0.0000} = N · Σ f·f: the dispatch share is used where the mean router probability (P) belongs.");
                    double logitsMean = n * (f * logits.mean(new long[] { 0 })).sum().item<float>();
                    Expect(Math.Abs(got - logitsMean) > 1e-4,
                        $"for {what} it returns {got:0.0000}, the value with raw logits in place of probabilities: P averages the softmax probabilities.");
                    Expect(false, $"for {what} it returns {got:0.0000}, but the loss is {want:0.0000}.");
                }
                // The gradient: only P carries one (f is a count), so it must match the reference's gradient.
                Expect(answer.requires_grad, $"for {what} the value is right but carries no gradient back to the logits: P must be computed from the softmax probabilities, so the router can learn from this loss.");
                var reference = logits.detach().clone().requires_grad_(true);
                var refProbs = reference.softmax(1);
                MoeRouting.LoadBalancingLoss(refProbs, refProbs.argmax(1)).backward();
                answer.backward();
                Expect(input.grad is not null && Same(input.grad, reference.grad!, 1e-5),
                    $"for {what} the value is right but its gradient with respect to the logits is not: f is a count of first choices and must carry no gradient; only P does.");
            }
        });

    static bool SortedEqual(Tensor a, Tensor b)
    {
        var (x, _) = a.sort(1);
        var (y, _) = b.sort(1);
        return x.eq(y).all().item<bool>();
    }

    static double Variant(Tensor probs, long n)
    {
        var f = MoeRouting.DispatchFraction(probs.argmax(1), (int)n);
        return n * (f * probs.mean(new long[] { 0 })).sum().item<float>();
    }

    /// <summary>
    /// Exercise 2: top-k gating. <c>yours(logits, k)</c> returns the k most probable experts of each token (most probable
    /// first) and their gates: for k = 1 the probability itself; for k ≥ 2 the k probabilities divided by their sum.
    /// </summary>
    public static Verdict TopKGating(Func<Tensor, int, (Tensor Experts, Tensor Gates)> yours) => Check("your TopKGating",
        "go back to the section \"Top-k gating\": over which axis is the softmax taken, which experts are kept, and what is the convention for the gates when k is 1 and when it is 2?",
        () =>
        {
            var generator = new Generator(24);
            var cases = new List<(Tensor Logits, int K)>
            {
                (randn([6, 4], generator: generator), 2),
                (randn([5, 4], generator: generator), 1),
                (randn([9, 8], generator: generator) * 2, 2),
                (randn([4, 5], generator: generator), 3),
                (randn([7, 3], generator: generator) * 3, 1),
            };
            foreach (var (logits, k) in cases)
            {
                long tokens = logits.shape[0], n = logits.shape[1];
                string what = $"{tokens} tokens, {n} experts, k = {k}";
                var want = MoeRouting.TopK(logits, k);
                var input = logits.detach().clone().requires_grad_(true);
                var (experts, gates) = Forbidding(["MoeRouting.TopK"], () => yours(input, k));
                ExpectShape(experts, [tokens, k], $"for {what} the experts");
                ExpectShape(gates, [tokens, k], $"for {what} the gates");
                Expect(experts.dtype == ScalarType.Int64, $"for {what} the experts are {experts.dtype}; return expert ids as int64 (Long) indices.");
                if (!experts.eq(want.Experts).all().item<bool>())
                {
                    var overTokens = logits.softmax(0).topk(k, dim: 1).indexes;
                    Expect(!SortedEqual(experts, want.Experts),
                        $"for {what} it picks the right experts but not most probable first: order each token's experts from the highest probability down.");
                    Expect(!experts.eq(overTokens).all().item<bool>(),
                        $"for {what} the chosen experts are those of a softmax over the tokens: each token needs a distribution over the experts.");
                    Expect(!experts.eq(logits.topk(k, dim: 1, largest: false).indexes).all().item<bool>(),
                        $"for {what} it picks the least probable experts.");
                    Expect(false, $"for {what} the chosen experts are not each token's {k} most probable ones.");
                }
                if (!Same(gates, want.Gates, 1e-5))
                {
                    var raw = logits.softmax(1).topk(k, dim: 1).values;
                    var sums = gates.detach().sum(1);
                    if (k == 1)
                    {
                        Expect(!Same(gates, ones_like(gates), 1e-6),
                            $"for {what} every gate is 1: renormalising a single probability always gives 1, so the gate no longer depends on the router and the router gets no gradient from the task. With k = 1 the gate is the probability itself.");
                    }
                    else
                    {
                        Expect(!Same(gates, raw, 1e-5),
                            $"for {what} the gates of a token sum to {sums[0].item<float>():0.000}, not 1: with k ≥ 2 the kept probabilities are renormalised over the chosen experts.");
                    }
                    var overTokens = logits.softmax(0).gather(1, want.Experts);
                    Expect(!Same(gates, overTokens, 1e-5) && !Same(gates, overTokens / overTokens.sum(1, keepdim: true), 1e-5),
                        $"for {what} the gates come from a softmax over the tokens: each token's probabilities run over the experts.");
                    Expect(!Same(gates, logits.gather(1, want.Experts), 1e-5), $"for {what} the gates are raw logits; they come from the softmax probabilities.");
                    Expect(false, $"for {what} the gates are not right: compare your gates with the convention for k = {k} in the section \"Top-k gating\".");
                }
                Expect(gates.requires_grad, $"for {what} the gates are right but carry no gradient: the router learns through them, so compute them from the logits without detaching.");
                var weights = randn([tokens, k], generator: generator);
                var reference = logits.detach().clone().requires_grad_(true);
                (MoeRouting.TopK(reference, k).Gates * weights).sum().backward();
                (gates * weights).sum().backward();
                Expect(input.grad is not null && Same(input.grad, reference.grad!, 1e-5),
                    $"for {what} the gates are right but their gradient with respect to the logits is not.");
            }
        });

    /// <summary>
    /// Exercise 3: expert capacity with k = 1. <c>yours(expertOfToken, experts, capacityFactor)</c> returns, for each token in
    /// order, whether its expert keeps it: each expert takes at most ⌈capacityFactor · tokens / experts⌉ tokens, the first
    /// ones to arrive.
    /// </summary>
    public static Verdict KeepWithinCapacity(Func<int[], int, double, bool[]> yours) => Check("your KeepWithinCapacity",
        "go back to the section \"Expert capacity\": how many tokens may one expert take (how is a fraction rounded?), and which of its tokens does it keep?",
        () =>
        {
            var random = new Random(24);
            var cases = new List<(int[] Choice, int N, double Factor)>
            {
                ([0, 0, 0, 1, 0, 2, 0, 3], 4, 1.0),              // capacity 2: expert 0 drops three
                ([1, 1, 1, 1, 1, 0, 2, 3, 1, 2], 4, 1.0),        // 2.5 → capacity 3
                ([2, 2, 2, 2, 0, 1, 2, 3, 2], 4, 1.0),           // 2.25 → capacity 3
                ([0, 1, 2, 3, 0, 1, 2, 3], 4, 1.25),             // balanced: nothing dropped
                ([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], 4, 1.25), // all on one expert: 3.75 → 4
                ([0, 0, 1, 0, 0, 1, 0], 2, 0.5),                 // 1.75 → 2
            };
            for (int i = 0; i < 6; i++)
            {
                int n = random.Next(2, 6), t = random.Next(5, 30);
                cases.Add((Enumerable.Range(0, t).Select(_ => random.Next(n) == 0 ? 0 : random.Next(n)).ToArray(), n, new[] { 0.5, 1.0, 1.25, 1.5, 2.0 }[random.Next(5)]));
            }
            foreach (var (choice, n, factor) in cases)
            {
                var copy = choice.ToArray();
                string call = $"KeepWithinCapacity([{string.Join(", ", choice)}], {n}, {factor})";
                var got = Forbidding(["MoeRouting.KeepMask", "MoeRouting.Capacity"], () => yours(copy, n, factor));
                Expect(got is not null, $"{call} returns null.");
                Expect(copy.SequenceEqual(choice), $"{call} changed the array it was given.");
                Expect(got!.Length == choice.Length, $"{call} returns {got.Length} flags for {choice.Length} tokens: one flag per token.");
                int capacity = MoeRouting.Capacity(choice.Length, n, 1, factor);
                using var keepMask = MoeRouting.KeepMask(tensor(choice.Select(c => (long)c).ToArray()).unsqueeze(1), n, capacity);
                var want = keepMask.squeeze(1).data<bool>().ToArray();
                if (got.SequenceEqual(want)) continue;
                // The feedback names the mistake and the capacity it should come to, never the formula that gives it.
                Expect(!got.All(x => x), $"{call} keeps every token, but here an expert takes at most {capacity}: some tokens must be dropped.");
                string result = $"{call} gives [{Flags(got)}] instead of [{Flags(want)}] (capacity {capacity})";
                Expect(!got.SequenceEqual(KeepFirst(choice, capacity, fromEnd: true)), $"{result}: it keeps each expert's last tokens; tokens are served in order, so the first ones to arrive are kept.");
                int noFactor = (int)Math.Ceiling((double)choice.Length / n - 1e-9);
                Expect(!(noFactor != capacity && got.SequenceEqual(KeepFirst(choice, noFactor, false))), $"{result}: the capacity factor is missing from the capacity.");
                int floor = (int)Math.Floor(factor * choice.Length / n + 1e-9);
                Expect(!(floor != capacity && got.SequenceEqual(KeepFirst(choice, floor, false))),
                    $"{result}: it rounds {factor * choice.Length / n:0.###} down (or to the nearest whole number) to {floor}; a fractional capacity is always rounded up, so no expert is short of a slot.");
                Expect(!got.SequenceEqual(KeepFirst(choice, capacity + 1, false)), $"{result}: each expert keeps one token too many (an off-by-one: is the comparison < or ≤?).");
                Expect(!got.SequenceEqual(KeepFirst(choice, capacity - 1, false)), $"{result}: each expert keeps one token too few (an off-by-one: is the comparison < or ≤?).");
                Expect(false, $"{result}.");
            }
        });

    static bool[] KeepFirst(int[] choice, int capacity, bool fromEnd)
    {
        var keep = new bool[choice.Length];
        var used = new Dictionary<int, int>();
        var order = Enumerable.Range(0, choice.Length);
        foreach (int i in fromEnd ? order.Reverse() : order)
        {
            int u = used.GetValueOrDefault(choice[i]);
            keep[i] = u < capacity;
            used[choice[i]] = u + 1;
        }
        return keep;
    }

    static string Flags(bool[] flags) => string.Join(", ", flags.Select(f => f ? "keep" : "drop"));
}
