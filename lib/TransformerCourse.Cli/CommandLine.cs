namespace TransformerCourse.Cli;

/// <summary>A tiny option parser: --name value, --flag, and positional arguments.</summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string?> options = [];

    public CommandLine(string command, string[] args, IReadOnlySet<string> valued, IReadOnlySet<string> flags)
    {
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) { Positional.Add(a); continue; }
            var name = a[2..];
            if (flags.Contains(name)) options[name] = null;
            else if (valued.Contains(name))
            {
                if (i + 1 >= args.Length) throw new ArgumentException($"{command}: --{name} needs a value.", name);
                options[name] = args[++i];
            }
            else throw new ArgumentException($"{command}: unknown option '{a}'. Options: {string.Join(", ", valued.Concat(flags).Select(o => "--" + o))}.", name);
        }
        Command = command;
    }

    public string Command { get; }
    public List<string> Positional { get; } = [];

    public bool Has(string name) => options.ContainsKey(name);

    public string? Text(string name) => options.GetValueOrDefault(name);

    public int? Int(string name) => Parse(name, s => (int.TryParse(s, out var v) && v > 0, v), "a positive whole number");

    public double? Double(string name) => Parse(name, s => (double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 0, v), "a non-negative number");

    T? Parse<T>(string name, Func<string, (bool Ok, T Value)> parse, string what) where T : struct
    {
        if (options.GetValueOrDefault(name) is not { } text) return null;
        var (ok, value) = parse(text);
        return ok ? value : throw new ArgumentException($"{Command}: --{name} must be {what}, not '{text}'.", name);
    }
}
