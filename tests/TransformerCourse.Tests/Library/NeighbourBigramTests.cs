using TransformerCourse.Bert;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class NeighbourBigramTests : TorchTest
{
    const int Mask = 9, Vocab = 10;

    // Training rows where 1 is always followed by 2 and 3 always preceded by 2, except one row that makes 4 follow 1 once.
    static readonly Tensor Train = tensor(new long[,] { { 1, 2, 3, 0 }, { 1, 2, 3, 0 }, { 5, 1, 2, 3 }, { 1, 4, 6, 0 } });

    static (Tensor, Tensor) Blank(long[] shown, long[] labels) => (tensor(shown).unsqueeze(0), tensor(labels).unsqueeze(0));

    [Fact]
    public void Each_lookup_reads_its_own_neighbour()
    {
        // Blank between 1 and 3: the truth is 2, which every lookup finds.
        var scores = NeighbourBigram.Score(Train, [Blank([1, Mask, 3, 0], [-100, 2, -100, -100])], Mask, Vocab);
        Assert.Equal(new NeighbourScores(1, 1, 1, 1), scores);

        // Truth 4 after 1 and before 6: the left lookup says 2 (3 of 4 times), the right lookup says 4 (the only predecessor of 6),
        // and both neighbours together favour 4.
        scores = NeighbourBigram.Score(Train, [Blank([1, Mask, 6, 0], [-100, 4, -100, -100])], Mask, Vocab);
        Assert.Equal(new NeighbourScores(1, 0, 1, 1), scores);
    }

    [Fact]
    public void Only_mask_positions_with_labels_count_and_edges_have_one_neighbour()
    {
        // Position 0 is a blank with no left neighbour; position 2 is scored but shows a random token, so it is skipped.
        var scores = NeighbourBigram.Score(Train, [Blank([Mask, 2, 7, 0], [1, -100, 3, -100])], Mask, Vocab);
        Assert.Equal(1, scores.Tokens);
        Assert.Equal(0, scores.Left);
        Assert.Equal(0, scores.Both);
        Assert.Equal(1, scores.Right);      // the most frequent predecessor of 2 is 1
    }

    [Fact]
    public void Bad_input_names_the_argument()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => NeighbourBigram.Score(Train, [], 12, Vocab));
        Assert.Contains("maskId 12", e.Message);
        Assert.Throws<ArgumentException>(() => NeighbourBigram.Score(tensor(new long[] { 1, 2 }), [], Mask, Vocab));
    }
}
