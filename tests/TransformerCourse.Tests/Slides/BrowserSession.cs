using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace TransformerCourse.Tests.Slides;

/// <summary>A browser context (all its pages and popups) with what went wrong in it.</summary>
public sealed class BrowserSession(IBrowserContext context) : IAsyncDisposable
{
    public IBrowserContext Context { get; } = context;
    public ConcurrentQueue<string> Errors { get; } = [];
    public ConcurrentQueue<string> Failed { get; } = [];
    /// <summary>Requests for anything but a file:// URL; all were aborted.</summary>
    public ConcurrentQueue<string> Blocked { get; } = [];

    public IEnumerable<string> Problems =>
        Errors.Select(e => "console error: " + e)
            .Concat(Failed.Select(r => "failed request: " + r))
            .Concat(Blocked.Select(r => "blocked (non-file) request: " + r));

    public ValueTask DisposeAsync() => Context.DisposeAsync();
}
