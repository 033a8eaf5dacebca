using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace TransformerCourse.Cli.Apps;

/// <summary>Code the app runs in order: one notebook cell, or one cell of an imported .dib file.</summary>
/// <param name="Label">How the app's comments name it, e.g. "code cell 4".</param>
/// <param name="IsSetup">A cell of the course's setup .dib: notebook-host work (building the library, registering
/// formatters, <c>#r</c>) is dropped, the rest (usings, <c>Course.Setup</c> and its printed line) is kept.</param>
public sealed record CodeChunk(string Label, string Source, bool IsSetup = false);

/// <summary>A chunk as top-level statements of the app (usings and types are taken out).</summary>
public sealed record TranslatedChunk(CodeChunk Chunk, string Body, bool DisplaysLastValue);

/// <summary>A declaration the app names differently from the notebook, and why.</summary>
public sealed record Rename(int Chunk, string Label, string From, string To, string Why);

public sealed record Translation(
    IReadOnlyList<string> Usings,
    IReadOnlyList<TranslatedChunk> Chunks,
    IReadOnlyList<string> Types,
    IReadOnlyList<string> Packages,
    IReadOnlyList<Rename> Renames,
    IReadOnlyList<string> Problems);

/// <summary>
/// Turns notebook cells (C# scripts, each seeing the cells before it) into the top-level statements of one C# file.
/// Each cell is parsed and bound as a script submission chained to the previous ones, exactly as the notebook kernel
/// compiles it, so every name is resolved to the cell that declares it. Then:
/// <list type="bullet">
/// <item><c>using</c> directives are hoisted to the top of the file;</item>
/// <item>a cell's last expression without <c>;</c> (which the notebook displays) becomes <c>AppOutput.Display(…);</c>;</item>
/// <item><c>display(…)</c> and <c>HTML(…)</c> (the notebook's helpers) become <c>AppOutput.Display</c> and <c>AppOutput.Html</c>;</item>
/// <item>a variable, local function or type declared again by a later cell (a placeholder, then the reference
/// solution) is renamed in that cell and everywhere its new meaning is used, by symbol, not by text;</item>
/// <item>a variable inside a block that reuses a top-level name (legal in a script, an error in one method) is renamed;</item>
/// <item>a top-level variable or local function named like a type that the cells use in an expression (<c>ClipLoss.Symmetric</c>
/// beside an exercise's <c>ClipLoss(…)</c>) is renamed, since in one file it would hide that type everywhere;</item>
/// <item>type declarations move after the top-level statements;</item>
/// <item><c>#r "nuget: …"</c> becomes a <c>#:package</c> directive; other <c>#!</c> and <c>#r</c> lines become comments.</item>
/// </list>
/// </summary>
public static class CellTranslator
{
    /// <summary>The namespaces the .NET Interactive C# kernel imports in every notebook.</summary>
    public static readonly IReadOnlyList<string> KernelUsings =
        ["System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks", "System.Linq"];

    public const string DisplayReplacement = "AppOutput.Display";
    public const string HtmlReplacement = "AppOutput.Html";

    // Stand-ins for the kernel's helpers (Microsoft.DotNet.Interactive.Kernel.display/HTML), so cells bind without the kernel.
    const string PreludeSource = """
        public sealed class KernelDisplayedValue { public void Update(object value) { } }
        KernelDisplayedValue display(object value, params string[] mimeTypes) => null;
        string HTML(string content) => content;
        """;
    const string PreludePath = "kernel-prelude";

    static readonly CSharpParseOptions ScriptOptions = new(LanguageVersion.Latest, DocumentationMode.None, SourceCodeKind.Script);

    public static Translation Translate(IReadOnlyList<CodeChunk> chunks, IReadOnlyList<MetadataReference> references)
    {
        var packages = new List<string>();
        var sources = chunks.Select(c => WithoutHostCode(Demagic(c.Source, packages, c.IsSetup), c.IsSetup)).ToList();

        // Bind every chunk as a script submission chained to the ones before, as the kernel does.
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, usings: KernelUsings,
            nullableContextOptions: NullableContextOptions.Disable, allowUnsafe: true);
        var prelude = CSharpSyntaxTree.ParseText(PreludeSource, ScriptOptions, PreludePath);
        var previous = CSharpCompilation.CreateScriptCompilation("prelude", prelude, references, options, null, typeof(object));
        var trees = new List<SyntaxTree>();
        var models = new List<SemanticModel>();
        var problems = new List<string>();
        for (int i = 0; i < sources.Count; i++)
        {
            var tree = CSharpSyntaxTree.ParseText(sources[i], ScriptOptions, Path(i));
            var compilation = CSharpCompilation.CreateScriptCompilation($"cell{i}", tree, references, options, previous, typeof(object));
            var model = compilation.GetSemanticModel(tree);
            trees.Add(tree);
            models.Add(model);
            previous = compilation;
            foreach (var d in model.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Take(3))
                problems.Add($"{chunks[i].Label}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tree in trees.Append(prelude))
            foreach (var token in tree.GetRoot().DescendantTokens())
                if (token.IsKind(SyntaxKind.IdentifierToken)) usedNames.Add(token.ValueText);
        string Fresh(string name)
        {
            for (int k = 2; ; k++)
                if (usedNames.Add($"{name}_{k}")) return $"{name}_{k}";
        }

        // Declarations, in file order, by the name space they live in once the cells are one method.
        var renames = new Dictionary<SymbolKey, string>();
        var renameList = new List<Rename>();
        var values = new List<(int Chunk, string Name, SymbolKey Key)>();   // variables and local functions at top level
        var types = new List<(int Chunk, string Name, SymbolKey Key)>();
        var nested = new List<(int Chunk, string Name, SymbolKey Key)>();   // locals inside blocks of the top-level code
        for (int i = 0; i < trees.Count; i++)
        {
            foreach (var node in trees[i].GetRoot().DescendantNodes())
            {
                if (!IsDeclaration(node) || Declared(models[i], node) is not { } symbol || SymbolKey.Of(symbol) is not { } key) continue;
                if (symbol is INamedTypeSymbol { ContainingType.IsScriptClass: true }) types.Add((i, symbol.Name, key));
                else if (symbol.ContainingType?.IsScriptClass == true && symbol is IFieldSymbol or IMethodSymbol { MethodKind: MethodKind.Ordinary } or IPropertySymbol)
                    values.Add((i, symbol.Name, key));
                else if (symbol is ILocalSymbol or IRangeVariableSymbol or IMethodSymbol { MethodKind: MethodKind.LocalFunction } && !InsideFunction(node))
                    (IsTopLevelDeclaration(node) ? values : nested).Add((i, symbol.Name, key));
            }
        }
        // Names the cells use for a type or namespace in an expression (ClipLoss.Symmetric(…)). A notebook cell's
        // declaration hides nothing in the cells before it, but a top-level local of one file is in scope in all of
        // it: an exercise's `Tensor ClipLoss(…)` would hide the class ClipLoss everywhere. Such locals are renamed.
        var typeNames = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < trees.Count; i++)
            foreach (var name in trees[i].GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
                if (IsLookedUpAsExpression(name) && models[i].GetSymbolInfo(name).Symbol is INamedTypeSymbol or INamespaceSymbol)
                    typeNames.Add(name.Identifier.ValueText);
        foreach (var space in new[] { values, types })
            foreach (var group in space.GroupBy(d => d.Name))
            {
                int first = group.First().Chunk;
                bool hidesType = space == values && typeNames.Contains(group.Key);
                foreach (var again in group.Where(d => hidesType || d.Chunk != first).GroupBy(d => d.Chunk))
                {
                    var to = Fresh(group.Key);
                    foreach (var d in again) renames[d.Key] = to;
                    renameList.Add(new Rename(again.Key, chunks[again.Key].Label, group.Key, to, again.Key == first
                        ? $"the cells also use the type {group.Key}, which a local of that name would hide in one file"
                        : "declared again; one file cannot declare a name twice"));
                }
            }
        var topLevelNames = values.Select(v => renames.GetValueOrDefault(v.Key, v.Name)).ToHashSet(StringComparer.Ordinal);
        var nestedNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in nested.Where(d => topLevelNames.Contains(d.Name)))
        {
            if (!nestedNames.TryGetValue(d.Name, out var to)) nestedNames[d.Name] = to = Fresh(d.Name);
            renames[d.Key] = to;
            if (!renameList.Any(r => r.Chunk == d.Chunk && r.From == d.Name))
                renameList.Add(new Rename(d.Chunk, chunks[d.Chunk].Label, d.Name, to, "a block inside top-level code cannot reuse a top-level name"));
        }

        // Rewrite each chunk.
        var usings = new List<string>();
        var typeTexts = new List<string>();
        var translated = new List<TranslatedChunk>();
        for (int i = 0; i < trees.Count; i++)
        {
            var root = (CompilationUnitSyntax)trees[i].GetRoot();
            var model = models[i];
            var edits = new List<Edit>();
            foreach (var token in root.DescendantTokens())
            {
                if (!token.IsKind(SyntaxKind.IdentifierToken)) continue;
                var symbol = Referenced(model, token);
                // The token must spell the symbol's name: `var` binds to the inferred type, an alias to what it aliases.
                if (symbol is not null && token.ValueText == symbol.Name && SymbolKey.Of(symbol) is { } key && renames.TryGetValue(key, out var to))
                    edits.Add(new Edit(token.Span, to));
                else if (IsKernelHelper(symbol, token, "display")) edits.Add(new Edit(token.Span, DisplayReplacement));
                else if (IsKernelHelper(symbol, token, "HTML")) edits.Add(new Edit(token.Span, HtmlReplacement));
            }

            bool displays = false;
            if (root.Members.LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } last })
            {
                var expression = last.Expression;
                var type = model.GetTypeInfo(expression).Type;
                bool isDisplayCall = expression is InvocationExpressionSyntax { Expression: IdentifierNameSyntax name }
                    && IsKernelHelper(model.GetSymbolInfo(name).Symbol, name.Identifier, "display");
                if (type?.SpecialType == SpecialType.System_Void || isDisplayCall)
                    edits.Add(Edit.After(expression.Span.End, ";"));
                else
                {
                    displays = true;
                    edits.Add(Edit.Before(expression.SpanStart, DisplayReplacement + "("));
                    edits.Add(Edit.After(expression.Span.End, ");"));
                }
            }

            var text = root.GetText().ToString();
            string Slice(TextSpan span) => Apply(text, span, edits);
            var body = new StringBuilder();
            foreach (var u in root.Usings)
            {
                var directive = u.WithoutTrivia().ToString();
                if (!usings.Contains(directive)) usings.Add(directive);
                if (!chunks[i].IsSetup) body.Append(Comments(u.GetLeadingTrivia()));
            }
            foreach (var member in root.Members)
            {
                switch (member)
                {
                    case BaseTypeDeclarationSyntax or DelegateDeclarationSyntax:
                        typeTexts.Add(Slice(member.FullSpan).Trim('\n', '\r'));
                        break;
                    case FieldDeclarationSyntax or MethodDeclarationSyntax:
                        // A script's fields and methods become locals and local functions: no access modifiers.
                        var strip = member.Modifiers.Where(m => !m.IsKind(SyntaxKind.ConstKeyword) && !m.IsKind(SyntaxKind.AsyncKeyword)
                            && !m.IsKind(SyntaxKind.UnsafeKeyword) && !(m.IsKind(SyntaxKind.StaticKeyword) && member is MethodDeclarationSyntax)).ToList();
                        var memberEdits = edits.Concat(strip.Select(m => new Edit(TextSpan.FromBounds(m.SpanStart, m.FullSpan.End), ""))).ToList();
                        body.Append(Apply(text, member.FullSpan, memberEdits));
                        break;
                    default:
                        body.Append(Slice(member.FullSpan));
                        break;
                }
            }
            body.Append(Comments(root.EndOfFileToken.LeadingTrivia));
            translated.Add(new TranslatedChunk(chunks[i], Tidy(body.ToString()), displays));
        }
        return new Translation(usings, translated, typeTexts, packages.Distinct().ToList(), renameList, problems);
    }

    static string Path(int chunk) => $"cell{chunk}.csx";

    /// <summary>Notebook-only lines: <c>#r "nuget: P, V"</c> → a package for <c>#:package</c>; other magics → comments.</summary>
    static string Demagic(string source, List<string> packages, bool isSetup)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        if (isSetup) lines = lines.Where(l => !Regex.IsMatch(l.TrimStart(), "^#(r|i)\\b")).ToArray();
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimStart();
            if (Regex.Match(line, "^#r\\s+\"nuget:\\s*([^,\"]+?)\\s*(?:,\\s*([^\"]+?)\\s*)?\"") is { Success: true } nuget)
            {
                packages.Add(nuget.Groups[2].Success ? $"{nuget.Groups[1].Value}@{nuget.Groups[2].Value}" : nuget.Groups[1].Value);
                lines[i] = $"// {line}  (a #:package directive at the top of this file)";
            }
            else if (Regex.IsMatch(line, "^#(r|i)\\b"))
                lines[i] = $"// {line}  (not needed: the #:project directive references the course library and its packages)";
            else if (line.StartsWith("#!", StringComparison.Ordinal))
                lines[i] = $"// notebook magic command, not needed in an app: {line}";
        }
        return string.Join('\n', lines);
    }

    /// <summary>
    /// Removes what only the notebook host needs: <c>using Microsoft.DotNet.Interactive…</c> everywhere and, in the setup
    /// .dib, building the library (its top-level block; the #:project directive builds it) and registering formatters
    /// (the app prints values and writes charts itself).
    /// </summary>
    static string WithoutHostCode(string source, bool isSetup)
    {
        var root = (CompilationUnitSyntax)CSharpSyntaxTree.ParseText(source, ScriptOptions).GetRoot();
        var dropped = root.Usings.Where(u => u.Name?.ToString().StartsWith("Microsoft.DotNet.Interactive", StringComparison.Ordinal) == true)
            .Cast<SyntaxNode>().ToList();
        if (isSetup)
            dropped.AddRange(root.Members.Where(m => m is GlobalStatementSyntax { Statement: BlockSyntax }
                || m.DescendantTokens().Any(t => t.IsKind(SyntaxKind.IdentifierToken) && t.ValueText == "Formatter")));
        if (dropped.Count == 0) return source;
        // In a cell, keep the comments in front of what is dropped; the setup's comments describe the host's work.
        return Apply(source, new TextSpan(0, source.Length),
            dropped.Select(d => new Edit(TextSpan.FromBounds(isSetup ? d.FullSpan.Start : d.SpanStart, d.FullSpan.End), "")));
    }

    static bool IsDeclaration(SyntaxNode node) => node is VariableDeclaratorSyntax or MethodDeclarationSyntax or LocalFunctionStatementSyntax
        or BaseTypeDeclarationSyntax or DelegateDeclarationSyntax or SingleVariableDesignationSyntax or ForEachStatementSyntax
        or CatchDeclarationSyntax or PropertyDeclarationSyntax or FromClauseSyntax or LetClauseSyntax or JoinClauseSyntax
        or QueryContinuationSyntax;

    static ISymbol? Declared(SemanticModel model, SyntaxNode node) => model.GetDeclaredSymbol(node) switch
    {
        IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.Destructor } m => m.ContainingType,
        var s => s,
    };

    /// <summary>The symbol an identifier declares or refers to.</summary>
    static ISymbol? Referenced(SemanticModel model, SyntaxToken token)
    {
        var node = token.Parent;
        if (node is null) return null;
        if (IsDeclaration(node) || node is ConstructorDeclarationSyntax or DestructorDeclarationSyntax) return Declared(model, node);
        if (node is SimpleNameSyntax name)
        {
            var info = model.GetSymbolInfo(name);
            var symbol = info.Symbol ?? (info.CandidateSymbols.Length > 0 ? info.CandidateSymbols[0] : null);
            return symbol is IMethodSymbol { MethodKind: MethodKind.Constructor } ctor ? ctor.ContainingType : symbol?.OriginalDefinition;
        }
        return null;
    }

    static bool IsKernelHelper(ISymbol? symbol, SyntaxToken token, string name) =>
        token.ValueText == name
        && token.Parent is IdentifierNameSyntax { Parent: InvocationExpressionSyntax }
        && (symbol is null || symbol.DeclaringSyntaxReferences.Any(r => r.SyntaxTree.FilePath == PreludePath));

    /// <summary>A name looked up as a simple name in an expression, where a local of that name comes first: the left
    /// end of <c>A.B</c> or a bare <c>A</c>, not a type position (<c>A x;</c>) nor the right side of a dot.</summary>
    static bool IsLookedUpAsExpression(SimpleNameSyntax name) => name.Parent switch
    {
        MemberAccessExpressionSyntax access when access.Name == name => false,
        QualifiedNameSyntax qualified when qualified.Right == name => false,
        MemberBindingExpressionSyntax or AliasQualifiedNameSyntax or UsingDirectiveSyntax => false,
        _ => !SyntaxFacts.IsInNamespaceOrTypeContext(name),
    };

    /// <summary>Inside a lambda, local function, script method or type: names there may shadow the top level.</summary>
    static bool InsideFunction(SyntaxNode node) => node.Ancestors().TakeWhile(a => a is not GlobalStatementSyntax)
        .Any(a => a is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax or MemberDeclarationSyntax or AccessorDeclarationSyntax);

    /// <summary>A local declared right at the top level of a cell (e.g. <c>using var x = …;</c>).</summary>
    static bool IsTopLevelDeclaration(SyntaxNode node) =>
        node is VariableDeclaratorSyntax { Parent.Parent: LocalDeclarationStatementSyntax { Parent: GlobalStatementSyntax } };

    /// <summary>A replacement of a span, or an insertion that belongs to the code before or after its position.</summary>
    readonly record struct Edit(TextSpan Span, string Text, bool AfterPosition = false)
    {
        public static Edit Before(int position, string text) => new(new TextSpan(position, 0), text);
        public static Edit After(int position, string text) => new(new TextSpan(position, 0), text, AfterPosition: true);

        public bool Within(TextSpan span) => Span.Length > 0 ? span.Contains(Span)
            : AfterPosition ? Span.Start > span.Start && Span.Start <= span.End : Span.Start >= span.Start && Span.Start < span.End;
    }

    static string Apply(string text, TextSpan span, IEnumerable<Edit> edits)
    {
        var result = new StringBuilder();
        int at = span.Start;
        foreach (var edit in edits.Where(e => e.Within(span)).OrderBy(e => e.Span.Start).ThenBy(e => e.Span.Length > 0 ? 1 : e.AfterPosition ? 2 : 0))
        {
            if (edit.Span.Start < at) continue; // overlapping edit: keep the first
            result.Append(text, at, edit.Span.Start - at).Append(edit.Text);
            at = edit.Span.End;
        }
        result.Append(text, at, span.End - at);
        return result.ToString();
    }

    static string Comments(SyntaxTriviaList trivia) =>
        trivia.Any(t => t.IsKind(SyntaxKind.SingleLineCommentTrivia) || t.IsKind(SyntaxKind.MultiLineCommentTrivia)) ? trivia.ToFullString() : "";

    /// <summary>No trailing spaces, no leading or trailing blank lines.</summary>
    static string Tidy(string code)
    {
        var lines = code.Replace("\r\n", "\n").Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[0].Length == 0) lines.RemoveAt(0);
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return string.Join('\n', lines);
    }

    /// <summary>Where a symbol is declared: which cell (tree) and where in it.</summary>
    readonly record struct SymbolKey(string Tree, int Start)
    {
        public static SymbolKey? Of(ISymbol symbol) =>
            symbol.DeclaringSyntaxReferences.FirstOrDefault() is { } r ? new SymbolKey(r.SyntaxTree.FilePath, r.Span.Start) : null;
    }
}
