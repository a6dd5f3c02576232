namespace Vigil.Core.Baseline;

/// <summary>A regular file the FIM baseline records: its path and modification time (Unix seconds).</summary>
public readonly record struct BaselineFile(string Path, long Mtime);

/// <summary>Read access to the FIM baseline's regular files, newest first, for a retro-scan when detection rules change.</summary>
public interface IBaselineCatalog
{
    /// <summary>Whether the first scan has filled the baseline (a walk before it would miss files).</summary>
    public bool IsReady { get; }

    /// <summary>The number of non-empty files recorded (a symbolic link among them is never read through).</summary>
    public int Count();

    /// <summary>Up to <paramref name="limit"/> files after <paramref name="after"/> in newest-first order (mtime descending, then path).</summary>
    public IReadOnlyList<BaselineFile> NewestFirst(BaselineFile? after, int limit);
}
