using System.IO.Compression;
using System.Text;
using Vigil.Core.Configuration;
using Vigil.Fim.Scanning;

namespace Vigil.Fim.Events;

/// <summary>
/// report_changes: keeps a gzip copy of each file as <c>diff/file/&lt;path&gt;/last-entry.gz</c> under the data directory
/// and produces the <c>content_changes</c> text of modified events, honouring nodiff and the diff size limits.
/// </summary>
internal sealed class ContentChanges
{
    public const string NoDiffText = "Diff truncated due to 'nodiff' configuration detected for this file.";
    public const string SizeLimitText = "Unable to calculate diff due to 'file_size' limit has been reached.";
    public const string NoChangesText = "No content changes were found for this file.";
    public const string BinaryText = "Binary files differ";
    public const string MoreChanges = "\nMore changes...";
    public const int MaxDiffChars = 16 * 1024;

    private readonly string _root;
    private readonly SyscheckOptions _options;
    private readonly HashSet<string> _noDiffExact;
    private readonly IPathPattern[] _noDiffPatterns;

    public ContentChanges(string dataDirectory, SyscheckOptions options, PathPatternFactory patterns)
    {
        _root = Path.Combine(dataDirectory, "diff", "file");
        _options = options;
        _noDiffExact = [.. options.NoDiff.Where(n => !n.IsSregex).Select(n => n.Pattern)];
        _noDiffPatterns = [.. options.NoDiff.Where(n => n.IsSregex).Select(n => patterns(n.Pattern))];
    }

    /// <summary>Records the current content (added files and the first baseline); no text.</summary>
    public void Remember(string path, DirectoryOptions directory)
    {
        if (IsNoDiff(path) || TooBig(path, directory))
        {
            Forget(path);
            return;
        }

        if (TryRead(path) is { } content)
        {
            Store(path, content);
        }
    }

    /// <summary>The content_changes text for a modified file, and the new copy stored; null when there is nothing to say.</summary>
    public string? Changes(string path, DirectoryOptions directory)
    {
        if (IsNoDiff(path))
        {
            return NoDiffText;
        }

        if (TooBig(path, directory))
        {
            Forget(path);
            return SizeLimitText;
        }

        if (TryRead(path) is not { } content)
        {
            return null;
        }

        var previous = Load(path);
        Store(path, content);
        if (previous is null)
        {
            return null;
        }

        if (previous.AsSpan().SequenceEqual(content))
        {
            return NoChangesText;
        }

        if (previous.AsSpan().Contains((byte)0) || content.AsSpan().Contains((byte)0))
        {
            return BinaryText;
        }

        var diff = LineDiff.Compute(LineDiff.SplitLines(Encoding.UTF8.GetString(previous)), LineDiff.SplitLines(Encoding.UTF8.GetString(content)));
        return diff.Length > MaxDiffChars ? diff[..MaxDiffChars] + MoreChanges : diff;
    }

    public void Forget(string path)
    {
        try
        {
            var directory = CopyDirectory(path);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private bool IsNoDiff(string path) => _noDiffExact.Contains(path) || _noDiffPatterns.Any(p => p.IsMatch(path));

    private bool TooBig(string path, DirectoryOptions directory)
    {
        var limit = directory.DiffSizeLimitBytes ?? _options.DiffFileSizeLimitBytes;
        return limit > 0 && new FileInfo(path) is { Exists: true } info && info.Length > limit;
    }

    private string CopyDirectory(string path) => _root + path;

    private static byte[]? TryRead(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private byte[]? Load(string path)
    {
        var file = Path.Combine(CopyDirectory(path), "last-entry.gz");
        try
        {
            using var input = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
            using var output = new MemoryStream();
            input.CopyTo(output);
            return output.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }

    private void Store(string path, byte[] content)
    {
        try
        {
            var directory = CopyDirectory(path);
            Directory.CreateDirectory(directory);
            var file = Path.Combine(directory, "last-entry.gz");
            using var output = new GZipStream(File.Create(file), CompressionLevel.Fastest);
            output.Write(content);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
