using Microsoft.CodeAnalysis;
using TransformerCourse.Cli.Apps;

namespace TransformerCourse.Tests.Apps;

/// <summary>The cell transformations of <c>course export-apps</c>, on small cells, each result compiled as an app.</summary>
public class CellTranslatorTests
{
    static Translation Translate(params string[] cells) =>
        CellTranslator.Translate(cells.Select((c, i) => new CodeChunk($"code cell {i + 1}", c)).ToList(), AppReferences.RunningProcess);

    static string Body(Translation t, int cell) => t.Chunks[cell].Body;

    /// <summary>The translation assembled as an app (usings, statements, types) must compile.</summary>
    static void AssertCompiles(Translation t)
    {
        var source = string.Join('\n', CellTranslator.KernelUsings.Select(u => $"using {u};").Concat(t.Usings)
            .Append("using TransformerCourse.Notebook;").Distinct()
            .Concat(t.Chunks.Select(c => c.Body)).Concat(t.Types));
        var errors = AppCompiler.Compile(source, AppTestSupport.AppReferences).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors) + "\n\n" + source);
    }

    [Fact]
    public void A_cells_last_expression_is_displayed_and_a_void_call_is_just_ended()
    {
        var t = Translate("var t = 1 + 2;\nt", "Console.WriteLine(t)", "Console.WriteLine(t);\n\"last\"  // shown");
        Assert.EndsWith("AppOutput.Display(t);", Body(t, 0));
        Assert.True(t.Chunks[0].DisplaysLastValue);
        Assert.Equal("Console.WriteLine(t);", Body(t, 1));
        Assert.False(t.Chunks[1].DisplaysLastValue);
        Assert.EndsWith("AppOutput.Display(\"last\");  // shown", Body(t, 2));
        Assert.Empty(t.Problems);
        AssertCompiles(t);
    }

    [Fact]
    public void Display_and_HTML_become_AppOutput_calls_and_the_display_handle_still_updates()
    {
        var t = Translate("var handle = display(\"first\");\nhandle.Update(\"second\");\ndisplay(1.5)", "HTML(\"<b>hi</b>\")");
        Assert.Equal("var handle = AppOutput.Display(\"first\");\nhandle.Update(\"second\");\nAppOutput.Display(1.5);", Body(t, 0));
        Assert.False(t.Chunks[0].DisplaysLastValue); // display(...) at the end is not displayed twice
        Assert.Equal("AppOutput.Display(AppOutput.Html(\"<b>hi</b>\"));", Body(t, 1));
        AssertCompiles(t);
    }

    [Fact]
    public void A_redefined_function_and_variable_are_renamed_from_the_redefinition_on_by_symbol_not_text()
    {
        var t = Translate(
            "double Score(double x)\n{\n    return 0; // TODO\n}\nvar weights = new[] { 1.0, 2.0 };",
            "Console.WriteLine(Score(2) + weights.Length); // the check sees the placeholder",
            "// Reference solution\ndouble Score(double x) => x * x;\nConsole.WriteLine(Score(2));",
            "var weights = new[] { 3.0 };\nvar names = new { weights = 1 };\nConsole.WriteLine(weights.Length + Score(3) + names.weights + \"weights\".Length + nameof(Score).Length);");
        Assert.Equal("double Score(double x)\n{\n    return 0; // TODO\n}\nvar weights = new[] { 1.0, 2.0 };", Body(t, 0));
        Assert.Equal("Console.WriteLine(Score(2) + weights.Length); // the check sees the placeholder", Body(t, 1));
        Assert.Equal("// Reference solution\ndouble Score_2(double x) => x * x;\nConsole.WriteLine(Score_2(2));", Body(t, 2));
        Assert.Equal("var weights_2 = new[] { 3.0 };\nvar names = new { weights = 1 };\n"
            + "Console.WriteLine(weights_2.Length + Score_2(3) + names.weights + \"weights\".Length + nameof(Score_2).Length);", Body(t, 3));
        Assert.Equal(["Score → Score_2 in code cell 3", "weights → weights_2 in code cell 4"], t.Renames.Select(r => $"{r.From} → {r.To} in {r.Label}"));
        AssertCompiles(t);
    }

    [Fact]
    public void A_block_local_that_reuses_a_top_level_name_is_renamed_but_lambda_and_function_parameters_are_not()
    {
        var t = Translate(
            "var total = 0;\nfor (int i = 0; i < 3; i++) total += i;",
            "var i = 10;",
            "var squares = Enumerable.Range(0, 3).Select(i => i * i).ToList();\nint Twice(int i) => 2 * i;\nforeach (var i in squares) total += Twice(i);");
        Assert.Equal("var total = 0;\nfor (int i_2 = 0; i_2 < 3; i_2++) total += i_2;", Body(t, 0));
        Assert.Equal("var i = 10;", Body(t, 1));
        Assert.Equal("var squares = Enumerable.Range(0, 3).Select(i => i * i).ToList();\nint Twice(int i) => 2 * i;\nforeach (var i_2 in squares) total += Twice(i_2);", Body(t, 2));
        AssertCompiles(t);
    }

    /// <summary>Lesson 22: cell 18 calls ClipLoss.Symmetric (a library class), exercise 2 later declares Tensor ClipLoss(…).
    /// In the notebook the later cell hides nothing before it; in one file the local function would hide the class.</summary>
    [Fact]
    public void A_local_function_named_like_a_type_the_cells_use_is_renamed_and_the_type_still_binds()
    {
        var t = Translate(
            "using TorchSharp;\nusing TransformerCourse.Vision;\nvar logits = torch.eye(3);\nConsole.WriteLine(ClipLoss.Symmetric(logits).item<float>());",
            "torch.Tensor ClipLoss(torch.Tensor l) => torch.tensor(0f); // TODO\nConsole.WriteLine(ClipLoss(logits).item<float>());",
            "torch.Tensor ClipLoss(torch.Tensor l) => l.sum();\nConsole.WriteLine(ClipLoss(logits).item<float>());",
            "var Patches = 1;\nConsole.WriteLine(Patches + 1);");
        Assert.Equal("var logits = torch.eye(3);\nConsole.WriteLine(ClipLoss.Symmetric(logits).item<float>());", Body(t, 0));
        Assert.Equal("torch.Tensor ClipLoss_2(torch.Tensor l) => torch.tensor(0f); // TODO\nConsole.WriteLine(ClipLoss_2(logits).item<float>());", Body(t, 1));
        Assert.Equal("torch.Tensor ClipLoss_3(torch.Tensor l) => l.sum();\nConsole.WriteLine(ClipLoss_3(logits).item<float>());", Body(t, 2));
        Assert.Equal(["ClipLoss → ClipLoss_2 in code cell 2", "ClipLoss → ClipLoss_3 in code cell 3"], t.Renames.Select(r => $"{r.From} → {r.To} in {r.Label}"));
        Assert.Contains("would hide", t.Renames[0].Why);
        // A local named like a library type (TransformerCourse.Vision.Patches) that no cell uses keeps its name.
        Assert.Equal("var Patches = 1;\nConsole.WriteLine(Patches + 1);", Body(t, 3));
        AssertCompiles(t);
    }

    [Fact]
    public void Using_directives_are_hoisted_once_each()
    {
        var t = Translate(
            "using System.Text.RegularExpressions;\nvar m = Regex.Match(\"ab\", \"b\");",
            "// uses the capstone\nusing System.Text.RegularExpressions;\nusing TransformerCourse.Gpt;   // GptConfig\nvar config = new GptConfig(65, 32, 2, 2, 64);\nConsole.WriteLine(m.Index + Regex.Escape(\".\"));");
        Assert.Equal(["using System.Text.RegularExpressions;", "using TransformerCourse.Gpt;"], t.Usings);
        Assert.DoesNotContain("using ", Body(t, 0) + Body(t, 1));
        Assert.StartsWith("// uses the capstone\n", Body(t, 1));
        AssertCompiles(t);
    }

    [Fact]
    public void Type_declarations_move_out_of_the_statements_and_a_redefined_type_is_renamed()
    {
        var t = Translate(
            "record RunConfig(int Steps, double LearningRate);\nvar config = new RunConfig(10, 0.1);",
            "class RunConfig { public int Steps = 5; }\nvar other = new RunConfig();\nConsole.WriteLine(config.Steps + other.Steps);");
        Assert.Equal(["record RunConfig(int Steps, double LearningRate);", "class RunConfig_2 { public int Steps = 5; }"], t.Types);
        Assert.Equal("var config = new RunConfig(10, 0.1);", Body(t, 0));
        Assert.Equal("var other = new RunConfig_2();\nConsole.WriteLine(config.Steps + other.Steps);", Body(t, 1));
        AssertCompiles(t);
    }

    [Fact]
    public void Notebook_magics_become_package_directives_or_comments()
    {
        var t = Translate("#r \"nuget: Humanizer, 2.14.1\"\n#!time\nConsole.WriteLine(1);");
        Assert.Equal(["Humanizer@2.14.1"], t.Packages);
        Assert.Contains("// notebook magic command, not needed in an app: #!time", Body(t, 0));
        Assert.Contains("// #r \"nuget: Humanizer, 2.14.1\"", Body(t, 0));
        Assert.EndsWith("Console.WriteLine(1);", Body(t, 0));
    }
}
