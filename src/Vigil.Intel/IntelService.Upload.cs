using Vigil.Intel.Files;
using Vigil.Intel.Selection;
using Vigil.Intel.VirusTotal;

namespace Vigil.Intel;

/// <summary>
/// The <c>upload</c> option: a file VirusTotal does not know is uploaded (it becomes public there) and its analysis
/// polled; the analysis's verdict replaces the unknown one. Every request goes through the quota. The file is read
/// only when it still is the regular file that was flagged: opened without following a symbolic link, and its
/// hash equal to the alert's. Anything else, or any failure, leaves the unknown verdict standing.
/// </summary>
internal sealed partial class IntelService
{
    /// <summary>Polls of one analysis before giving up (the waits double from 15 s up to 5 min: about an hour).</summary>
    private const int MaxPolls = 16;

    private static readonly TimeSpan FirstPoll = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMinutes(5);

    /// <summary>The uploaded file's verdict, or null when nothing was uploaded or no verdict came back.</summary>
    private async Task<FileVerdict?> TryUploadAsync(string hash, IReadOnlyList<FileAlert> files, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            await using var stream = await OpenIfUnchangedAsync(file, cancellationToken);
            if (stream is null)
            {
                continue;
            }

            if (stream.Length > VirusTotalClient.UploadLimit)
            {
                Log.UploadSkipped(_logger, file.Path, "larger than VirusTotal's 650 MB limit");
                return null;
            }

            Uri? uploadUrl = null;
            if (stream.Length > VirusTotalClient.DirectUploadLimit)
            {
                var url = await SpendQuotaAsync(() => _client!.GetUploadUrlAsync(cancellationToken), cancellationToken);
                if (url.Failure is not null)
                {
                    Log.UploadFailed(_logger, file.Path, url.Failure.ToString());
                    return null;
                }

                uploadUrl = url.Value;
            }

            var upload = await SpendQuotaAsync(() => _client!.UploadAsync(stream, Path.GetFileName(file.Path), uploadUrl, cancellationToken), cancellationToken);
            if (upload.Value is not { } analysisId)
            {
                Log.UploadFailed(_logger, file.Path, upload.Failure?.ToString() ?? "no analysis id");
                return null;
            }

            Log.Uploaded(_logger, file.Path, analysisId);
            return await PollAsync(analysisId, hash, file, cancellationToken);
        }

        return null;
    }

    private async Task<FileVerdict?> PollAsync(string analysisId, string hash, FileAlert file, CancellationToken cancellationToken)
    {
        var wait = FirstPoll;
        for (var poll = 0; poll < MaxPolls; poll++)
        {
            await DelayAsync(_time.GetUtcNow() + wait, cancellationToken);
            wait = wait * 2 > LongestPoll ? LongestPoll : wait * 2;
            var answer = await SpendQuotaAsync(() => _client!.GetAnalysisAsync(analysisId, hash, cancellationToken), cancellationToken);
            if (answer.Failure is LookupOutcome.Rejected or LookupOutcome.Malformed)
            {
                Log.UploadFailed(_logger, file.Path, answer.Failure.ToString()!);
                return null;
            }

            if (answer.Value?.Verdict is { } verdict)
            {
                // What VirusTotal analysed must be the flagged file (it could have changed while being sent).
                if (verdict.Sha256 is { } analysed && file.Sha256 is { } flagged && !analysed.Equals(flagged, StringComparison.OrdinalIgnoreCase))
                {
                    Log.UploadSkipped(_logger, file.Path, "the uploaded content changed while it was sent");
                    return null;
                }

                return verdict with { Sha256 = verdict.Sha256 ?? file.Sha256, Md5 = verdict.Md5 ?? file.Md5, Sha1 = verdict.Sha1 ?? file.Sha1 };
            }
        }

        Log.UploadFailed(_logger, file.Path, $"analysis {analysisId} not completed after {MaxPolls} polls");
        return null;
    }

    /// <summary>The flagged file, opened safely, positioned at its start; null when it is gone, not a regular file,
    /// reached through a symbolic link, or no longer has the flagged hash.</summary>
    private async Task<FileStream?> OpenIfUnchangedAsync(FileAlert file, CancellationToken cancellationToken)
    {
        var stream = RegularFile.TryOpen(file.Path, out var error);
        if (stream is null)
        {
            Log.UploadSkipped(_logger, file.Path, error ?? "cannot be opened");
            return null;
        }

        try
        {
            var digest = await RegularFile.HashAsync(stream, cancellationToken);
            var isSame = file.Sha256 is { } sha256 ? sha256.Equals(digest.Sha256, StringComparison.OrdinalIgnoreCase)
                : file.Sha1 is { } sha1 ? sha1.Equals(digest.Sha1, StringComparison.OrdinalIgnoreCase)
                : file.Md5 is { } md5 && md5.Equals(digest.Md5, StringComparison.OrdinalIgnoreCase);
            if (!isSame || digest.Length == 0)
            {
                Log.UploadSkipped(_logger, file.Path, "its content is no longer the flagged one");
                await stream.DisposeAsync();
                return null;
            }

            stream.Position = 0;
            return stream;
        }
        catch (IOException ex)
        {
            Log.UploadSkipped(_logger, file.Path, ex.Message);
            await stream.DisposeAsync();
            return null;
        }
    }

    /// <summary>Waits until the quota allows one more request, then sends it, counted until its answer and from it.</summary>
    private async Task<T> SpendQuotaAsync<T>(Func<Task<T>> request, CancellationToken cancellationToken)
    {
        while (_quota.Check() is { } block)
        {
            await DelayAsync(block.Until, cancellationToken);
        }

        return await _quota.SendAsync(request);
    }

    private async Task DelayAsync(DateTimeOffset until, CancellationToken cancellationToken)
    {
        var delay = until - _time.GetUtcNow();
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        // The timer first, then the moment it fires is published: a clock moved to that moment then fires it (published
        // before, a clock moved in between would set the timer that much later, past the moment shown).
        var timer = Task.Delay(delay, _time, cancellationToken);
        WaitingUntil = until;
        try
        {
            await timer;
        }
        finally
        {
            WaitingUntil = null;
        }
    }
}
