namespace TransformerCourse.Runtime;

/// <summary>The per-user cache folder (downloads, patched native libraries).</summary>
public static class CourseCache
{
    /// <summary>TRANSFORMER_COURSE_CACHE if set, else the OS cache folder + transformer-course.</summary>
    public static string Root
    {
        get
        {
            var custom = Environment.GetEnvironmentVariable("TRANSFORMER_COURSE_CACHE");
            if (!string.IsNullOrWhiteSpace(custom)) return custom;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var baseDir = !string.IsNullOrWhiteSpace(xdg) ? xdg
                : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(baseDir, "transformer-course");
        }
    }
}
