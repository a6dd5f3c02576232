using System.Text;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Intel.Tests;

public sealed class IntelServiceUploadTests
{
    private static (string Path, EmulatedFile File) WriteFile(IntelHarness h, string name, string content, int malicious)
    {
        var path = Path.Combine(h.Directory, name);
        File.WriteAllText(path, content);
        return (path, EmulatedFile.For(Encoding.UTF8.GetBytes(content), malicious, 60 - malicious, malicious > 0 ? "trojan.up/load" : null));
    }

    [Fact]
    public async Task OnAlertAsync_UploadOnUnknownFile_UploadsPollsAndPublishesMaliciousVerdict()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { Upload = true });
        var (path, file) = WriteFile(h, "dropper.bin", "never seen before", malicious: 7);
        h.Emulator.AddOnUpload(file);

        await h.SendAsync(Alerts.Fim(file, path: path));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        var body = h.Bodies().Single();
        Assert.StartsWith("{\"virustotal\": {\"found\": 1, \"malicious\": 1, ", body, StringComparison.Ordinal);
        Assert.Contains("\"positives\": 7, \"total\": 60, ", body, StringComparison.Ordinal);
        Assert.Contains($"\"sha256\": \"{file.Sha256}\"", body, StringComparison.Ordinal);
        var requests = h.Emulator.Requests;
        Assert.Equal(("GET", $"/api/v3/files/{file.Sha256}", 404), (requests[0].Method, requests[0].Path, requests[0].Status));
        Assert.Equal(("POST", "/api/v3/files", 200), (requests[1].Method, requests[1].Path, requests[1].Status));
        Assert.All(requests.Skip(2), r => Assert.StartsWith("/api/v3/analyses/", r.Path, StringComparison.Ordinal));
        Assert.Equal(2, requests.Count - 2);
        Assert.Equal(0, h.Service.PendingCount);
    }

    [Fact]
    public async Task OnAlertAsync_UploadOff_NeverUploads()
    {
        await using var h = await IntelHarness.StartAsync();
        var (path, file) = WriteFile(h, "dropper.bin", "never seen before", malicious: 7);
        h.Emulator.AddOnUpload(file);

        await h.SendAsync(Alerts.Fim(file, path: path));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        Assert.StartsWith("{\"virustotal\": {\"found\": 0, ", h.Bodies().Single(), StringComparison.Ordinal);
        Assert.Equal(0, h.Emulator.UploadCount);
        Assert.Single(h.Emulator.Requests);
    }

    [Fact]
    public async Task OnAlertAsync_FileChangedSinceAlert_NotUploadedUnknownStands()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { Upload = true });
        var (path, file) = WriteFile(h, "dropper.bin", "never seen before", malicious: 7);
        File.WriteAllText(path, "replaced after the alert");

        await h.SendAsync(Alerts.Fim(file, path: path));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        Assert.StartsWith("{\"virustotal\": {\"found\": 0, ", h.Bodies().Single(), StringComparison.Ordinal);
        Assert.Equal(0, h.Emulator.UploadCount);
    }

    [Fact]
    public async Task OnAlertAsync_PathIsNowSymlink_NotFollowedNotUploaded()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { Upload = true });
        var (target, file) = WriteFile(h, "real.bin", "never seen before", malicious: 7);
        var link = Path.Combine(h.Directory, "link.bin");
        File.CreateSymbolicLink(link, target);

        await h.SendAsync(Alerts.Fim(file, path: link));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        Assert.StartsWith("{\"virustotal\": {\"found\": 0, ", h.Bodies().Single(), StringComparison.Ordinal);
        Assert.Equal(0, h.Emulator.UploadCount);
    }

    [Fact]
    public async Task OnAlertAsync_FileGone_NotUploadedUnknownStands()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { Upload = true });
        var (path, file) = WriteFile(h, "gone.bin", "never seen before", malicious: 7);
        File.Delete(path);

        await h.SendAsync(Alerts.Fim(file, path: path));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        Assert.StartsWith("{\"virustotal\": {\"found\": 0, ", h.Bodies().Single(), StringComparison.Ordinal);
        Assert.Equal(0, h.Emulator.UploadCount);
    }

    [Fact]
    public async Task OnAlertAsync_UploadWithQuotaOfOneAMinute_EveryRequestCountsAndQuotaHolds()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { Upload = true, RequestsPerMinute = 1 });
        var (path, file) = WriteFile(h, "dropper.bin", "never seen before", malicious: 3);
        h.Emulator.AddOnUpload(file);

        await h.SendAsync(Alerts.Fim(file, path: path));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        Assert.Contains("\"positives\": 3, ", h.Bodies().Single(), StringComparison.Ordinal);
        Assert.Equal(4, h.Emulator.Requests.Count);
        Assert.Equal(1, h.Emulator.MaxRequestsInAnyMinute(IntelHarness.Key));
    }
}
