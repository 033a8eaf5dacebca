using System.Globalization;
using Microsoft.Data.Analysis;

namespace TransformerCourse.Training;

/// <summary>One optimisation step.</summary>
/// <param name="GradientNorm">Global gradient norm before clipping (NaN when it was not measured).</param>
public sealed record StepRecord(int Step, double Loss, double LearningRate, double Milliseconds, double TokensPerSecond, double GradientNorm = double.NaN);

/// <summary>One periodic evaluation (mean loss over a fixed set of batches).</summary>
public sealed record EvalRecord(int Step, double TrainLoss, double ValidationLoss);

/// <summary>Step and evaluation records, as DataFrames and as CSV files (written atomically).</summary>
public sealed class TrainingMetrics
{
    public List<StepRecord> Steps { get; } = [];
    public List<EvalRecord> Evaluations { get; } = [];

    public DataFrame StepFrame() => new(
        new Int32DataFrameColumn("step", Steps.Select(s => s.Step)),
        new DoubleDataFrameColumn("loss", Steps.Select(s => s.Loss)),
        new DoubleDataFrameColumn("lr", Steps.Select(s => s.LearningRate)),
        new DoubleDataFrameColumn("ms", Steps.Select(s => s.Milliseconds)),
        new DoubleDataFrameColumn("tokens_per_s", Steps.Select(s => s.TokensPerSecond)));

    public DataFrame EvalFrame() => new(
        new Int32DataFrameColumn("step", Evaluations.Select(e => e.Step)),
        new DoubleDataFrameColumn("train_loss", Evaluations.Select(e => e.TrainLoss)),
        new DoubleDataFrameColumn("val_loss", Evaluations.Select(e => e.ValidationLoss)));

    public void WriteCsv(string folder)
    {
        Directory.CreateDirectory(folder);
        WriteAtomically(Path.Combine(folder, "steps.csv"), "step,loss,lr,ms,tokens_per_s,grad_norm",
            Steps.Select(s => Row(s.Step, s.Loss, s.LearningRate, s.Milliseconds, s.TokensPerSecond, s.GradientNorm)));
        WriteAtomically(Path.Combine(folder, "evals.csv"), "step,train_loss,val_loss",
            Evaluations.Select(e => Row(e.Step, e.TrainLoss, e.ValidationLoss)));
    }

    /// <summary>Reads the CSVs of an earlier run, keeping records up to <paramref name="upToStep"/>.</summary>
    public static TrainingMetrics ReadCsv(string folder, int upToStep)
    {
        var metrics = new TrainingMetrics();
        foreach (var f in Read(Path.Combine(folder, "steps.csv")))
            if ((int)f[0] <= upToStep) metrics.Steps.Add(new StepRecord((int)f[0], f[1], f[2], f[3], f[4], f.Length > 5 ? f[5] : double.NaN));
        foreach (var f in Read(Path.Combine(folder, "evals.csv")))
            if ((int)f[0] <= upToStep) metrics.Evaluations.Add(new EvalRecord((int)f[0], f[1], f[2]));
        return metrics;
    }

    static IEnumerable<double[]> Read(string path) => !File.Exists(path) ? []
        : File.ReadLines(path).Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray());

    static string Row(params double[] values) => string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    static void WriteAtomically(string path, string header, IEnumerable<string> rows)
    {
        var temp = path + ".tmp";
        File.WriteAllLines(temp, rows.Prepend(header));
        File.Move(temp, path, overwrite: true);
    }
}
