namespace TransformerCourse.Analysis;

/// <summary>The result of a nonlinear least-squares fit: the parameters, the sum of squared residuals, the residuals
/// themselves and the Jacobian of the residuals at the optimum (one row per point, one column per parameter).</summary>
public sealed record LeastSquaresResult(double[] Parameters, double SumOfSquares, double[] Residuals, double[,] Jacobian, int Iterations)
{
    /// <summary>Standard errors from the linearised covariance s²·(JᵀJ)⁻¹, s² = SSE / (points − parameters).
    /// NaN for every parameter when there are no spare degrees of freedom or JᵀJ is singular.</summary>
    public double[] StandardErrors()
    {
        int n = Residuals.Length, p = Parameters.Length;
        var nan = Enumerable.Repeat(double.NaN, p).ToArray();
        if (n <= p) return nan;
        var inverse = LeastSquares.Invert(LeastSquares.NormalMatrix(Jacobian, 0));
        if (inverse is null) return nan;
        double s2 = SumOfSquares / (n - p);
        return Enumerable.Range(0, p).Select(i => Math.Sqrt(Math.Max(0, s2 * inverse[i, i]))).ToArray();
    }
}

/// <summary>
/// Levenberg–Marquardt: minimises Σ rᵢ(θ)² for a small number of parameters, with a central-difference Jacobian
/// and box bounds (a step that leaves the box is clipped to it). Enough for fitting scaling laws to a few dozen points.
/// </summary>
public static class LeastSquares
{
    public static LeastSquaresResult Minimize(Func<double[], double[]> residuals, double[] start, double[] lower, double[] upper,
        int maxIterations = 200)
    {
        int p = start.Length;
        if (lower.Length != p || upper.Length != p)
            throw new ArgumentException($"start has {p} parameters but lower has {lower.Length} and upper {upper.Length}.", nameof(lower));
        for (int i = 0; i < p; i++)
            if (!(lower[i] <= upper[i])) throw new ArgumentException($"Bound {i}: lower {lower[i]} is above upper {upper[i]}.", nameof(lower));
        var theta = Clip(start, lower, upper);
        var r = residuals(theta);
        if (r.Any(v => !double.IsFinite(v)))
            throw new ArgumentException($"The residuals are not finite at the start [{string.Join(", ", start)}].", nameof(start));
        double sse = r.Sum(v => v * v), lambda = 1e-3;
        int iteration = 0;
        for (; iteration < maxIterations; iteration++)
        {
            var j = Jacobian(residuals, theta, lower, upper);
            var gradient = new double[p];
            for (int a = 0; a < p; a++)
                for (int k = 0; k < r.Length; k++) gradient[a] += j[k, a] * r[k];
            bool improved = false;
            while (lambda < 1e12)
            {
                var normal = NormalMatrix(j, lambda);
                var step = Solve(normal, gradient.Select(g => -g).ToArray());
                if (step is null) { lambda *= 10; continue; }
                var candidate = Clip(theta.Zip(step, (t, s) => t + s).ToArray(), lower, upper);
                var rc = residuals(candidate);
                double sc = rc.All(double.IsFinite) ? rc.Sum(v => v * v) : double.PositiveInfinity;
                if (sc < sse)
                {
                    bool converged = sse - sc < 1e-14 * (1 + sse) && step.Zip(theta).All(x => Math.Abs(x.First) < 1e-10 * (1 + Math.Abs(x.Second)));
                    theta = candidate; r = rc; sse = sc; lambda = Math.Max(lambda / 10, 1e-12);
                    improved = !converged;
                    break;
                }
                lambda *= 10;
            }
            if (!improved) break;
        }
        return new LeastSquaresResult(theta, sse, r, Jacobian(residuals, theta, lower, upper), iteration);
    }

    static double[] Clip(double[] theta, double[] lower, double[] upper) =>
        theta.Select((t, i) => Math.Clamp(t, lower[i], upper[i])).ToArray();

    static double[,] Jacobian(Func<double[], double[]> residuals, double[] theta, double[] lower, double[] upper)
    {
        int p = theta.Length;
        double[,]? j = null;
        for (int a = 0; a < p; a++)
        {
            double h = 1e-6 * (1 + Math.Abs(theta[a]));
            var plus = (double[])theta.Clone();
            var minus = (double[])theta.Clone();
            plus[a] = Math.Min(upper[a], theta[a] + h);
            minus[a] = Math.Max(lower[a], theta[a] - h);
            double width = plus[a] - minus[a];
            var rp = residuals(plus);
            var rm = residuals(minus);
            j ??= new double[rp.Length, p];
            for (int k = 0; k < rp.Length; k++) j[k, a] = width > 0 ? (rp[k] - rm[k]) / width : 0;
        }
        return j!;
    }

    /// <summary>JᵀJ with λ added to its diagonal (scaled by the diagonal, Marquardt's choice).</summary>
    internal static double[,] NormalMatrix(double[,] j, double lambda)
    {
        int n = j.GetLength(0), p = j.GetLength(1);
        var m = new double[p, p];
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++)
                for (int k = 0; k < n; k++) m[a, b] += j[k, a] * j[k, b];
        for (int a = 0; a < p; a++) m[a, a] += lambda * Math.Max(m[a, a], 1e-12);
        return m;
    }

    /// <summary>Gaussian elimination with partial pivoting; null when the matrix is singular.</summary>
    internal static double[]? Solve(double[,] matrix, double[] rhs)
    {
        int p = rhs.Length;
        var a = (double[,])matrix.Clone();
        var b = (double[])rhs.Clone();
        for (int c = 0; c < p; c++)
        {
            int pivot = Enumerable.Range(c, p - c).MaxBy(row => Math.Abs(a[row, c]));
            if (Math.Abs(a[pivot, c]) < 1e-300) return null;
            if (pivot != c)
            {
                for (int k = 0; k < p; k++) (a[c, k], a[pivot, k]) = (a[pivot, k], a[c, k]);
                (b[c], b[pivot]) = (b[pivot], b[c]);
            }
            for (int row = c + 1; row < p; row++)
            {
                double f = a[row, c] / a[c, c];
                for (int k = c; k < p; k++) a[row, k] -= f * a[c, k];
                b[row] -= f * b[c];
            }
        }
        var x = new double[p];
        for (int row = p - 1; row >= 0; row--)
        {
            double s = b[row];
            for (int k = row + 1; k < p; k++) s -= a[row, k] * x[k];
            x[row] = s / a[row, row];
        }
        return x.All(double.IsFinite) ? x : null;
    }

    internal static double[,]? Invert(double[,] matrix)
    {
        int p = matrix.GetLength(0);
        var inverse = new double[p, p];
        for (int c = 0; c < p; c++)
        {
            var column = Solve(matrix, Enumerable.Range(0, p).Select(i => i == c ? 1.0 : 0.0).ToArray());
            if (column is null) return null;
            for (int r = 0; r < p; r++) inverse[r, c] = column[r];
        }
        return inverse;
    }
}
