namespace TransformerCourse.Tokenization;

/// <summary>
/// One learned merge: the adjacent pair (<paramref name="Left"/>, <paramref name="Right"/>) becomes token
/// <paramref name="Merged"/>. Merges are applied in the order of <paramref name="Merged"/> (its rank).
/// <paramref name="Count"/> is how often the pair occurred when the trainer chose it (0 when unknown, as for
/// merges recovered from GPT-2's ranks).
/// </summary>
public readonly record struct BpeMerge(int Left, int Right, int Merged, long Count = 0);
