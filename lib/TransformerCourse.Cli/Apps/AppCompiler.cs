using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace TransformerCourse.Cli.Apps;

/// <summary>
/// Compiles an exported app in memory, as <c>dotnet build app.cs</c> would (top-level statements, nullable off, the
/// app's own usings, the warnings its <c>#:property NoWarn</c> turns off), without MSBuild: a cheap check that every
/// app compiles. Returns the errors and warnings.
/// </summary>
public static class AppCompiler
{
    public static IReadOnlyList<Diagnostic> Compile(string appSource, IReadOnlyList<MetadataReference> references, string path = "app.cs")
    {
        // #: directives are for the SDK; blank them (keeping line numbers) for a plain compiler.
        var source = Regex.Replace(appSource, "(?m)^#[:!].*$", "");
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path);
        var suppressed = AppExporter.Properties.Where(p => p.StartsWith("NoWarn=", StringComparison.Ordinal))
            .SelectMany(p => p["NoWarn=".Length..].Split(';')).Where(w => w.StartsWith("CS", StringComparison.Ordinal))
            .Append("CS1701").Append("CS1702")
            .ToDictionary(w => w, _ => ReportDiagnostic.Suppress);
        var options = new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Disable,
            allowUnsafe: true, specificDiagnosticOptions: suppressed);
        var compilation = CSharpCompilation.Create(Path.GetFileNameWithoutExtension(path), [tree], references, options);
        return compilation.GetDiagnostics()
            .Where(d => d.Severity is DiagnosticSeverity.Error or DiagnosticSeverity.Warning && !d.IsSuppressed)
            .OrderBy(d => d.Location.SourceSpan.Start).ToList();
    }
}
