using TransformerCourse.Cli;
using TransformerCourse.Cli.Apps;
using TransformerCourse.Cli.Slides;

// The course's command line. Kernels redirect Console.Out while cells run, so keep the real one.
var stdout = Console.Out;
var command = args.FirstOrDefault() ?? "run";
var rest = args.Skip(args.Length == 0 ? 0 : 1).ToArray();
try
{
    return command switch
    {
        "run" => await RunCommand.ExecuteAsync(rest, stdout),
        "slides" => await SlidesCommand.ExecuteAsync(rest, stdout),
        "read" => await SlidesCommand.ExecuteAsync(rest, stdout, reading: true),
        "train" => await TrainCommand.ExecuteAsync(rest, stdout),
        "sample" => await SampleCommand.ExecuteAsync(rest, stdout),
        "bench" => await BenchCommand.ExecuteAsync(rest, stdout),
        "scaling" => await ScalingCommand.ExecuteAsync(rest, stdout),
        "export-apps" => await ExportAppsCommand.ExecuteAsync(rest, stdout),
        "help" or "--help" or "-h" => Help(),
        _ => Help($"Unknown command '{command}'."),
    };
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or IOException or InvalidDataException or InvalidNotebookException)
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

          slides [NOTEBOOK|FOLDER ...] [--out DIR] [--reuse] [--executed DIR]
              Execute lessons (default: all) and export each as an offline reveal.js deck,
              DIR/<section>/<lesson>.html (default DIR: slides/), with DIR/assets and DIR/index.html.
              --reuse takes existing executed copies from executed/ (or --executed DIR) instead of
              running the lessons again. Open a deck in a browser; press S for the speaker notes.

          read [NOTEBOOK|FOLDER ...] [--out DIR] [--reuse] [--executed DIR]
              The reading edition: the same as slides (same options), but each lesson opens as one page
              to scroll (reveal.js's scroll view), DIR/<section>/<lesson>.html (default DIR: reading/),
              with DIR/index.html for readers. Offline, relative links: open it from disk or publish
              the folder as it is (GitHub Pages: .github/workflows/pages.yml). ?view=slides presents a page.

          train [--recipe cpu|gpu] [--device auto|cpu|cuda] [--out DIR] [--resume] [--steps N] [--data-mirror DIR]
              Train the capstone character GPT on Tiny Shakespeare (default out: runs/<recipe>/).

          sample [--checkpoint FILE] [--prompt TEXT] [--tokens N] [--temperature T] [--top-k K] [--seed S]
              Generate text from a checkpoint (default: runs/cpu/ckpt.bin).

          bench [--recipe cpu|gpu] [--steps N] [--device D] [--json FILE]
              Training speed: ms/step, tokens/s, GFLOP/s, % of matmul peak, time per phase.

          bench attention-memory --impl none|naive|blocked|fused --n N [--batch B] [--heads H] [--dim D] [--block K] [--repeats R]
              One attention run in this process; prints `attention-memory {json}` with the peak resident memory
              (KiB) and the median ms of the repeats. Lesson 23 runs it once per configuration.

          scaling [--widths 16,24,...] [--layers L] [--steps S] [--batch B] [--context T] [--lr R] [--device D] [--out DIR]
              Lesson 19's full scaling sweep: one character GPT per width (default 16–128, 2 layers) trained on the
              same batches for S steps (default 1920), evaluated after 60, 120, 240, ... steps; writes DIR/sweep.csv
              (default runs/scaling/) and prints the fitted L(N) and L(N, D) and the capstone prediction.

          export-apps [NOTEBOOK|FOLDER ...] [--out DIR] [--check]
              Write each lesson (default: all) as a .NET 10 C# file-based app, DIR/<section>/<lesson>.cs
              (default DIR: apps/), runnable with `dotnet run DIR/<section>/<lesson>.cs`: markdown as comments,
              code cells in order, displayed values printed, charts written as HTML files next to the app.
              --check also compiles every app in memory against the built library and reports errors.

        Data: Tiny Shakespeare is downloaded once into the per-user cache and verified by SHA-256; offline,
        point TRANSFORMER_COURSE_DATA_MIRROR or --data-mirror at a folder holding tinyshakespeare/input.txt.
        """);
    return problem is null ? 0 : 2;
}
