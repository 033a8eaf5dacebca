namespace TransformerCourse.FineTuning;

/// <summary>
/// Word labels on sub-word tokens. A tokenizer may cut one word into several pieces, but the labels belong to words.
/// BERT's recipe for tagging (Devlin et al., 2019, section 5.3) gives the label to the word's <b>first</b> piece and
/// ignores the others: they get <see cref="IgnoreIndex"/>, which the loss and the accuracy skip. Special tokens
/// ([CLS], [SEP], [PAD]) are ignored the same way.
/// </summary>
public static class SubwordAlignment
{
    /// <summary>The label that means "no label here" (PyTorch's default <c>ignore_index</c> of cross-entropy).</summary>
    public const int IgnoreIndex = -100;

    /// <summary>Flattens the pieces of every word into one token list and gives each word's label to its first piece.</summary>
    /// <param name="wordPieces">The token ids of each word, in order (a word has at least one piece).</param>
    /// <param name="wordLabels">One label per word.</param>
    public static (int[] Tokens, int[] Labels) Align(IReadOnlyList<int[]> wordPieces, IReadOnlyList<int> wordLabels)
    {
        RebuiltRoutinesEnter();
        ArgumentNullException.ThrowIfNull(wordPieces);
        ArgumentNullException.ThrowIfNull(wordLabels);
        if (wordPieces.Count != wordLabels.Count)
            throw new ArgumentException($"wordLabels has {wordLabels.Count} labels for {wordPieces.Count} words.", nameof(wordLabels));
        var tokens = new List<int>();
        var labels = new List<int>();
        for (int w = 0; w < wordPieces.Count; w++)
        {
            var pieces = wordPieces[w] ?? throw new ArgumentException($"wordPieces[{w}] is null.", nameof(wordPieces));
            if (pieces.Length == 0) throw new ArgumentException($"word {w} has no pieces; every word needs at least one token.", nameof(wordPieces));
            for (int p = 0; p < pieces.Length; p++)
            {
                tokens.Add(pieces[p]);
                labels.Add(p == 0 ? wordLabels[w] : IgnoreIndex);
            }
        }
        return ([.. tokens], [.. labels]);
    }

    static void RebuiltRoutinesEnter() => Exercises.RebuiltRoutines.Enter("SubwordAlignment.Align");
}
