namespace TransformerCourse.Cli;

/// <summary>Finds the repository and its lessons.</summary>
public static class CourseRoot
{
    /// <summary>The nearest folder, from the working directory up, that holds notebooks/ and lib/.</summary>
    public static string Find()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "notebooks")) && Directory.Exists(Path.Combine(dir.FullName, "lib", "TransformerCourse")))
                    return dir.FullName;
        }
        throw new DirectoryNotFoundException($"Could not find the course repository (a folder with notebooks/ and lib/TransformerCourse/) above {Environment.CurrentDirectory}.");
    }

    /// <summary>Lesson notebooks (NN-*.ipynb) in course order; targets may be files or folders, default all.</summary>
    public static List<string> Notebooks(string root, IReadOnlyList<string> targets)
    {
        IEnumerable<string> Lessons(string folder) => Directory.EnumerateFiles(folder, "*.ipynb", SearchOption.AllDirectories)
            .Where(p => char.IsDigit(Path.GetFileName(p)[0]) && !p.Contains(".ipynb_checkpoints"));
        if (targets.Count == 0) targets = [Path.Combine(root, "notebooks")];
        var found = new List<string>();
        foreach (var target in targets)
        {
            var full = Path.GetFullPath(target);
            if (File.Exists(full)) found.Add(full);
            else if (Directory.Exists(full)) found.AddRange(Lessons(full));
            else throw new FileNotFoundException($"No notebook or folder at '{target}'.", target);
        }
        return found.Distinct().OrderBy(p => Path.GetRelativePath(root, p), StringComparer.Ordinal).ToList();
    }
}
