using TransformerCourse.Cli;

// The course's command line. Kernels redirect Console.Out while cells run, so keep the real one.
var stdout = Console.Out;
var command = args.FirstOrDefault() ?? "run";
var rest = args.Skip(args.Length == 0 ? 0 : 1).ToArray();
try
{
    return command switch
    {
        "run" => await RunCommand.ExecuteAsync(rest, stdout),
        "help" or "--help" or "-h" => Help(),
        _ => Help($"Unknown command '{command}'."),
    };
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

int Help(string? problem = null)
{
    if (problem is not null) Console.Error.WriteLine(problem);
    Console.WriteLine("""
        Transformer Architecture Deep Dive — course command line

          run [NOTEBOOK|FOLDER ...] [--out DIR]
              Execute lessons headless, in course order (default: all), and write executed copies
              with outputs to DIR (default: executed/). Exits 1 if any cell fails.
        """);
    return problem is null ? 0 : 2;
}
