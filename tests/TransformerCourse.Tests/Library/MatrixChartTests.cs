using TransformerCourse.Plots;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Library;

public class MatrixChartTests : TorchTest
{
    [Fact]
    public void Signed_matrix_uses_a_scale_symmetric_about_zero()
    {
        var html = MatrixChart.Signed(tensor(new float[,] { { -0.5f, 2f }, { 1f, 0f } }), "table", "dimension", "position").ToHtml();
        Assert.Contains("data-kind=\"heatmap\"", html);
        Assert.Contains("rgb(247,247,247)", html);   // white at zero
        Assert.Contains("\"zmin\":-2.0", html);
        Assert.Contains("\"zmax\":2.0", html);
        Assert.Throws<ArgumentException>(() => MatrixChart.Signed(zeros(2, 2, 2), "t", "x", "y"));
    }
}
