using Microsoft.Data.Analysis;
using TransformerCourse.Notebook;
using TransformerCourse.Plots;
using TransformerCourse.Tests.Library;
using TransformerCourse.Tests.Notebooks;
using static TorchSharp.torch;

namespace TransformerCourse.Tests.Apps;

/// <summary>What an exported app does at run time in place of the notebook host.</summary>
public class AppOutputTests : TorchTest
{
    /// <summary>Runs <paramref name="body"/> as an app at artifacts/app-tests/output/&lt;name&gt;.cs whose notebook folder is
    /// notebooks/; returns what it printed. The working directory is restored afterwards.</summary>
    static string AsApp(string name, Action body)
    {
        var folder = Path.Combine(AppTestSupport.OutputFolder, "output");
        Directory.CreateDirectory(folder);
        var (directory, output) = (Environment.CurrentDirectory, Console.Out);
        var writer = new StringWriter { NewLine = "\n" };
        Console.SetOut(writer);
        try
        {
            Environment.CurrentDirectory = ExecutedNotebook.RepoRoot;
            AppOutput.Start("../../../notebooks", Path.Combine(folder, name + ".cs"));
            Assert.Equal(Path.Combine(ExecutedNotebook.RepoRoot, "notebooks"), Environment.CurrentDirectory);
            body();
        }
        finally
        {
            Console.SetOut(output);
            Environment.CurrentDirectory = directory;
        }
        return writer.ToString();
    }

    [Fact]
    public void Charts_go_to_self_contained_files_whose_paths_are_printed_and_updates_rewrite_them()
    {
        string? file = null;
        var printed = AsApp("charts", () =>
        {
            var first = AppOutput.Display(Charts.Lines("Loss: step 1", "step", "loss", [new Series("train", [1], [2.5])]));
            var second = AppOutput.Display(Charts.Lines("Other", "x", "y", [new Series("s", [1], [1])]));
            file = first.File;
            first.Update(Charts.Lines("Loss: step 2", "step", "loss", [new Series("train", [1, 2], [2.5, 2.0])]));
            Assert.NotNull(second.File);
            // Each file carries plotly.js itself, not only the first one.
            Assert.Contains("plotly.js 2.35.3", File.ReadAllText(second.File!));
        });
        Assert.Equal(
            "[chart (line) \"Loss: step 1\" → artifacts/app-tests/output/charts.charts/01-loss-step-1.html]\n"
            + "[chart (line) \"Other\" → artifacts/app-tests/output/charts.charts/02-other.html]\n", printed);
        var html = File.ReadAllText(file!);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("plotly.js 2.35.3", html);
        Assert.Contains("Loss: step 2", html);   // updated in place
        Assert.DoesNotContain("Loss: step 1", html);
    }

    [Fact]
    public void A_new_run_clears_the_charts_of_the_last_one()
    {
        AsApp("rerun", () => { AppOutput.Display(AppOutput.Html("<p>one</p>")); AppOutput.Display(AppOutput.Html("<p>two</p>")); });
        var printed = AsApp("rerun", () => AppOutput.Display(AppOutput.Html("<p>three</p>")));
        Assert.Equal("[HTML → artifacts/app-tests/output/rerun.charts/01-html.html]\n", printed);
        Assert.Equal(["01-html.html"], Directory.GetFiles(Path.Combine(AppTestSupport.OutputFolder, "output", "rerun.charts")).Select(Path.GetFileName));
    }

    [Fact]
    public void Values_tables_and_tensors_print_as_text()
    {
        var printed = AsApp("values", () =>
        {
            AppOutput.Display(new DataFrame(new StringDataFrameColumn("head", ["L1 H1", "L2 H2"]), new DoubleDataFrameColumn("entropy", [0.123456, 0.0001])));
            AppOutput.Display(tensor(new float[] { 0.5f, 0.25f }));
            AppOutput.Display(42);
            var text = AppOutput.Display("step 1");
            text.Update("step 2");
            Assert.Null(text.File);
            AppOutput.Display(null);
        });
        Assert.Equal(
            "head  | entropy\n------+--------\nL1 H1 | 0.1235\nL2 H2 | 1e-4\n"
            + "Tensor [2] Float32 on cpu\n[0.5, 0.25]\n"
            + "42\nstep 1\nstep 2\n<null>\n", printed);
    }

    [Fact]
    public void Start_refuses_an_app_that_left_the_repository()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => AppOutput.Start("../no-such-notebooks", Path.Combine(Path.GetTempPath(), "x.cs")));
        Assert.Contains("run the app from its place in the course repository", e.Message);
    }
}
