using TorchSharp;
using TransformerCourse.Exercises;
using static TorchSharp.torch;

namespace TransformerCourse.EncoderFamily;

/// <summary>The distillation loss of one batch and its two parts.</summary>
/// <param name="Total">α · Soft + (1 − α) · Hard: the scalar to minimise.</param>
/// <param name="Soft">T² · KL(teacher_T ‖ student_T), averaged over the scored positions.</param>
/// <param name="Hard">The ordinary MLM cross-entropy of the student against the true tokens.</param>
public sealed record DistillationLoss(Tensor Total, Tensor Soft, Tensor Hard);

/// <summary>
/// Knowledge distillation (Hinton et al., 2015) as DistilBERT uses it (Sanh et al., 2019): the student learns from the
/// teacher's whole output distribution, softened by a temperature T, as well as from the true token. Both
/// distributions are softened by the same T; the soft term is scaled by T² so that its gradients keep the same size
/// as T changes (the gradient of the softened term shrinks like 1/T²). We use the KL divergence rather than the
/// cross-entropy with soft targets: they differ by the teacher's entropy, a constant, so the gradients are the same,
/// and the KL is 0 when the student matches the teacher.
/// </summary>
public static class Distillation
{
    /// <summary>Labels equal to this are not scored (the positions that were not masked).</summary>
    public const long IgnoreIndex = -100;

    /// <summary>T² · KL(softmax(teacher / T) ‖ softmax(student / T)), summed over the vocabulary (last axis) and
    /// averaged over all other positions. Shapes (…, V), equal.</summary>
    public static Tensor SoftTargetLoss(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        RebuiltRoutines.Enter("Distillation.SoftTargetLoss");
        if (!studentLogits.shape.SequenceEqual(teacherLogits.shape))
            throw new ArgumentException($"teacherLogits has shape {Guard.Shape(teacherLogits)} but studentLogits has {Guard.Shape(studentLogits)}.", nameof(teacherLogits));
        Guard.Rank(studentLogits, 1, nameof(studentLogits), "…, vocabulary");
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentException($"temperature must be positive and finite but is {temperature}.", nameof(temperature));
        var logStudent = nn.functional.log_softmax(studentLogits / temperature, -1);
        var logTeacher = nn.functional.log_softmax(teacherLogits.detach() / temperature, -1);
        var kl = (logTeacher.exp() * (logTeacher - logStudent)).sum(-1);
        return kl.mean() * (temperature * temperature);
    }

    /// <summary>
    /// α · T² · KL(teacher_T ‖ student_T) + (1 − α) · CE(student, labels), both over the positions whose label is not
    /// <see cref="IgnoreIndex"/> (the masked positions of an MLM batch). Logits (B, L, V), labels (B, L).
    /// </summary>
    public static DistillationLoss Loss(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature = 2.0, double alpha = 0.5)
    {
        Guard.RankExactly(studentLogits, 3, nameof(studentLogits), "batch, length, vocabulary");
        if (!studentLogits.shape.SequenceEqual(teacherLogits.shape))
            throw new ArgumentException($"teacherLogits has shape {Guard.Shape(teacherLogits)} but studentLogits has {Guard.Shape(studentLogits)}.", nameof(teacherLogits));
        if (!labels.shape.SequenceEqual(studentLogits.shape[..2]))
            throw new ArgumentException($"labels has shape {Guard.Shape(labels)} but the logits are {Guard.Shape(studentLogits)}; expected [{studentLogits.shape[0]}, {studentLogits.shape[1]}].", nameof(labels));
        if (alpha is < 0 or > 1 || double.IsNaN(alpha)) throw new ArgumentException($"alpha must be in [0, 1] but is {alpha}.", nameof(alpha));
        var scored = labels.ne(IgnoreIndex);
        if (!scored.any().item<bool>()) throw new ArgumentException("labels has no scored position (every label is IgnoreIndex).", nameof(labels));
        var student = studentLogits[scored];
        var teacher = teacherLogits[scored];
        var soft = SoftTargetLoss(student, teacher, temperature);
        var hard = nn.functional.cross_entropy(student, labels[scored]);
        return new DistillationLoss(alpha * soft + (1 - alpha) * hard, soft, hard);
    }
}
