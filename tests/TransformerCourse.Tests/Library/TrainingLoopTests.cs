using TorchSharp;
using TransformerCourse.Training;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

/// <summary>The loop on a model whose gradient is known: loss = w · (3, 4), so ∇w = (3, 4) with norm 5, and plain
/// SGD moves w by exactly −rate · gradient. Every number below follows from that by hand.</summary>
public class TrainingLoopTests : TorchTest
{
    static readonly float[] Gradient = [3f, 4f];

    sealed class Fixture
    {
        public readonly TorchSharp.Modules.Linear Model = nn.Linear(2, 1, hasBias: false);
        public readonly Tensor Input = tensor(new[,] { { 3f, 4f } });
        public readonly optim.Optimizer Sgd;

        public Fixture(double learningRate = 1.0)
        {
            using (no_grad()) Model.weight!.zero_();
            Sgd = optim.SGD(Model.parameters(), learningRate);
        }

        public float[] Weight => Model.weight!.data<float>().ToArray();

        public TrainingLoop<Tensor> Loop(TrainingLoopOptions options, Func<Tensor, BatchLoss>? loss = null, Action<int>? evaluate = null) =>
            new(Model, Sgd, () => Input, loss ?? (x => Model.forward(x).sum()), options, evaluate);
    }

    [Fact]
    public void The_schedule_sets_the_rate_before_every_step_and_continues_after_a_resume()
    {
        var f = new Fixture(learningRate: 99);
        var loop = f.Loop(new TrainingLoopOptions(Steps: 3, LearningRateAt: s => 0.1 * s));
        var weights = new List<float[]>();
        loop.StepCompleted += _ => weights.Add(f.Weight);
        loop.Run();
        Assert.Equal([0.1, 0.2, 0.3], loop.History.Select(s => Math.Round(s.LearningRate, 12)));
        // Step s moves w by −0.1·s·(3, 4): cumulative rates 0.1, 0.3, 0.6.
        double[] cumulative = [0.1, 0.3, 0.6];
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < 2; i++) Assert.Equal(-cumulative[s] * Gradient[i], weights[s][i], 5);

        var resumed = new Fixture().Loop(new TrainingLoopOptions(Steps: 20, LearningRateAt: s => 0.1 * s));
        resumed.Step = 10;
        Assert.Equal(11, resumed.TrainStep().Step);
        Assert.Equal(1.1, resumed.History[0].LearningRate, 12);

        var constant = new Fixture(learningRate: 0.25).Loop(new TrainingLoopOptions(Steps: 2));
        constant.Run();
        Assert.All(constant.History, s => Assert.Equal(0.25, s.LearningRate));
    }

    [Fact]
    public void Clipping_rescales_the_gradient_only_when_its_norm_exceeds_the_limit()
    {
        var below = new Fixture();
        var step = below.Loop(new TrainingLoopOptions(Steps: 1, GradientClip: 10)).TrainStep();
        Assert.Equal(5.0, step.GradientNorm!.Value, 5);
        Assert.Equal([-3f, -4f], below.Weight);   // untouched gradient: exactly −(3, 4)

        var above = new Fixture();
        step = above.Loop(new TrainingLoopOptions(Steps: 1, GradientClip: 1)).TrainStep();
        Assert.Equal(5.0, step.GradientNorm!.Value, 5);
        Assert.Equal(-0.6, above.Weight[0], 5);   // rescaled to norm 1: (3, 4) / 5
        Assert.Equal(-0.8, above.Weight[1], 5);

        var off = new Fixture();
        step = off.Loop(new TrainingLoopOptions(Steps: 1)).TrainStep();
        Assert.Null(step.GradientNorm);
        Assert.Equal([-3f, -4f], off.Weight);
    }

    [Fact]
    public void Calls_the_step_callback_every_step_and_evaluates_on_its_cadence_in_eval_mode()
    {
        var f = new Fixture(learningRate: 0.01);
        var evaluated = new List<int>();
        var modesDuringSteps = new List<bool>();
        var callbackSteps = new List<int>();
        bool? trainingDuringEval = null, gradDuringEval = null;
        var loop = f.Loop(new TrainingLoopOptions(Steps: 7, EvalInterval: 3),
            loss: x => { modesDuringSteps.Add(f.Model.training); return f.Model.forward(x).sum(); },
            evaluate: step =>
            {
                evaluated.Add(step);
                trainingDuringEval = f.Model.training;
                gradDuringEval = is_grad_enabled();
            });
        loop.StepCompleted += s => callbackSteps.Add(s.Step);

        loop.Run(stopAfterStep: 4);   // a run that stops between evaluations evaluates where it stops
        Assert.Equal([3, 4], evaluated);
        loop.Run();
        Assert.Equal([3, 4, 6, 7], evaluated);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], callbackSteps);
        Assert.Equal(7, loop.Step);
        Assert.False(trainingDuringEval);
        Assert.False(gradDuringEval);
        Assert.All(modesDuringSteps, Assert.True);   // back in training mode after every evaluation
        loop.Run();                                   // nothing left to do: no extra evaluation
        Assert.Equal(4, evaluated.Count);

        var endOnly = new List<int>();
        new Fixture().Loop(new TrainingLoopOptions(Steps: 5), evaluate: endOnly.Add).Run();
        Assert.Equal([5], endOnly);
    }

    [Fact]
    public void A_non_finite_loss_stops_before_the_update_and_keeps_the_last_good_weights()
    {
        var f = new Fixture(learningRate: 0.1);
        int calls = 0;
        var loop = f.Loop(new TrainingLoopOptions(Steps: 5),
            loss: x => f.Model.forward(x).sum() * (++calls == 3 ? float.NaN : 1f));
        var e = Assert.Throws<TrainingDivergedException>(() => loop.Run());
        Assert.Contains("loss became NaN at step 3", e.Message);
        Assert.Contains("step 2's state", e.Message);
        Assert.Equal(2, loop.Step);
        Assert.Equal(2, loop.History.Count);
        Assert.Equal(-0.6, f.Weight[0], 5);   // two good steps of −0.1 · 3
        Assert.Equal(-0.8, f.Weight[1], 5);
    }

    [Fact]
    public void A_non_finite_gradient_with_a_finite_loss_also_stops_before_the_update()
    {
        var f = new Fixture();
        var w = f.Model.weight!;
        // sqrt(w − w) is 0, but its gradient is ∞ − ∞ = NaN.
        var loop = f.Loop(new TrainingLoopOptions(Steps: 3, GradientClip: 1, DivergenceHint: "Check the sqrt."),
            loss: x => f.Model.forward(x).sum() + (w - w).sqrt().sum());
        var e = Assert.Throws<TrainingDivergedException>(() => loop.TrainStep());
        Assert.Contains("gradient norm became NaN at step 1", e.Message);
        Assert.EndsWith("Check the sqrt.", e.Message);
        Assert.Equal([0f, 0f], f.Weight);
        Assert.Equal(0, loop.Step);
    }

    [Fact]
    public void Frees_each_steps_tensors_and_records_the_loss_functions_metrics()
    {
        var f = new Fixture();
        Tensor? inside = null;
        var loop = f.Loop(new TrainingLoopOptions(Steps: 2), loss: x =>
        {
            var loss = f.Model.forward(x).sum();
            inside = loss * 2;
            return new BatchLoss(loss, new Dictionary<string, Tensor> { ["double"] = inside });
        });
        var step = loop.TrainStep();
        Assert.Equal(0.0, step.Loss);
        Assert.Equal(0.0, step.Metrics["double"]);
        Assert.True(inside!.IsInvalid);            // created in the step's dispose scope, freed with it
        Assert.False(f.Input.IsInvalid);           // the batch came from outside the scope and survives
        Assert.Equal(-50.0, loop.TrainStep().Metrics["double"], 4);   // 2 · w·(3, 4) with w = −(3, 4)
    }

    [Fact]
    public void Rejects_bad_options_naming_them()
    {
        var f = new Fixture();
        var e = Assert.ThrowsAny<ArgumentException>(() => f.Loop(new TrainingLoopOptions(Steps: 0)));
        Assert.Equal("Steps", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => f.Loop(new TrainingLoopOptions(Steps: 5, GradientClip: -1)));
        Assert.Contains("GradientClip", e.Message);
        e = Assert.Throws<ArgumentException>(() => f.Loop(new TrainingLoopOptions(Steps: 5, EvalInterval: -2)));
        Assert.Contains("EvalInterval", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Loop(new TrainingLoopOptions(Steps: 5)).Step = -1);
    }
}
