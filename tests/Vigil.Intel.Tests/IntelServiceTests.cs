using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Intel.Tests;

public sealed class IntelServiceTests
{
    private static readonly EmulatedFile s_malicious = EmulatedFile.Synthetic("malicious-1", malicious: 5);
    private static readonly EmulatedFile s_clean = EmulatedFile.Synthetic("clean-1", malicious: 0);
    private static readonly EmulatedFile s_unknown = EmulatedFile.Synthetic("unknown-1", malicious: 0);

    [Fact]
    public async Task OnAlertAsync_MaliciousFile_PublishesWazuhMessageWithVigilFields()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_malicious);

        await h.SendAsync(Alerts.Fim(s_malicious, id: "1700000000.42"));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        var f = s_malicious;
        var expected = "1:[001] (web) 10.0.0.5->virustotal:{\"virustotal\": {\"found\": 1, \"malicious\": 1, "
            + $"\"source\": {{\"alert_id\": \"1700000000.42\", \"file\": \"/root/x\", \"md5\": \"{f.Md5}\", \"sha1\": \"{f.Sha1}\", \"sha256\": \"{f.Sha256}\"}}, "
            + $"\"sha1\": \"{f.Sha1}\", \"scan_date\": \"2023-11-14 22:13:20\", \"positives\": 5, \"total\": 65, "
            + $"\"permalink\": \"https://www.virustotal.com/gui/file/{f.Sha256}/detection\", \"sha256\": \"{f.Sha256}\", "
            + "\"suspicious\": 0, \"undetected\": 60, \"harmless\": 0, \"suggested_threat_label\": \"trojan.synthetic/test\", "
            + "\"popular_threat_category\": \"trojan\", \"flagged_by\": [\"Kaspersky\", \"ESET-NOD32\", \"Microsoft\", \"Sophos\", \"BitDefender\"], "
            + "\"cached\": false}, \"integration\": \"virustotal\"}";
        Assert.Equal(expected, h.Sink.Messages[0].ToString());
        Assert.Equal(1, h.Emulator.LookupCount);
        Assert.Equal($"/api/v3/files/{f.Sha256}", h.Emulator.Requests[0].Path);
    }

    [Fact]
    public async Task OnAlertAsync_CleanFile_PublishesFoundNotMalicious()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_clean);

        await h.SendAsync(Alerts.Fim(s_clean));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        var body = h.Bodies().Single();
        Assert.StartsWith("{\"virustotal\": {\"found\": 1, \"malicious\": 0, ", body, StringComparison.Ordinal);
        Assert.Contains("\"positives\": 0, \"total\": 60, ", body, StringComparison.Ordinal);
        Assert.Contains("\"flagged_by\": [], \"cached\": false}", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnAlertAsync_UnknownFile_PublishesFoundZero()
    {
        await using var h = await IntelHarness.StartAsync();

        await h.SendAsync(Alerts.Fim(s_unknown, id: "1.1"));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        var u = s_unknown;
        Assert.Equal(
            "{\"virustotal\": {\"found\": 0, \"malicious\": 0, \"source\": {\"alert_id\": \"1.1\", \"file\": \"/root/x\", "
            + $"\"md5\": \"{u.Md5}\", \"sha1\": \"{u.Sha1}\", \"sha256\": \"{u.Sha256}\"}}, \"cached\": false}}, \"integration\": \"virustotal\"}}",
            h.Bodies().Single());
        Assert.Equal(404, h.Emulator.Requests.Single().Status);
    }

    [Fact]
    public async Task OnAlertAsync_OnlyMd5_LooksUpMd5()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_malicious);

        await h.SendAsync(Alerts.Fim(s_malicious.Md5, s_malicious.Sha1, sha256: null));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        Assert.Equal($"/api/v3/files/{s_malicious.Md5}", h.Emulator.Requests.Single().Path);
        Assert.Contains("\"malicious\": 1", h.Bodies().Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnAlertAsync_SameHashAgain_AnswersFromCacheMarkedCached()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_malicious);
        await h.SendAsync(Alerts.Fim(s_malicious));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        await h.SendAsync(Alerts.Fim(s_malicious, path: "/root/y"));

        Assert.Equal(2, h.Sink.Count);
        Assert.Equal(1, h.Emulator.LookupCount);
        var first = h.Bodies()[0];
        var second = h.Bodies()[1];
        Assert.EndsWith("\"cached\": true}, \"integration\": \"virustotal\"}", second, StringComparison.Ordinal);
        // Same alert a fresh verdict would give, apart from the file and the cached flag.
        Assert.Equal(
            first.Replace("\"/root/x\"", "\"/root/y\"", StringComparison.Ordinal).Replace("\"cached\": false", "\"cached\": true", StringComparison.Ordinal)
                .Replace(Between(first, "alert_id"), Between(second, "alert_id"), StringComparison.Ordinal),
            second);
    }

    [Fact]
    public async Task OnAlertAsync_CleanVerdictAfterADay_LooksUpAgain()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_clean);
        await h.SendAsync(Alerts.Fim(s_clean));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        h.Time.Advance(TimeSpan.FromHours(23));
        await h.SendAsync(Alerts.Fim(s_clean));
        Assert.Equal(2, h.Sink.Count);
        Assert.Equal(1, h.Emulator.LookupCount);

        h.Time.Advance(TimeSpan.FromHours(2));
        await h.SendAsync(Alerts.Fim(s_clean));
        await h.DriveUntilAsync(() => h.Sink.Count == 3);
        Assert.Equal(2, h.Emulator.LookupCount);
        Assert.Contains("\"cached\": false", h.Bodies()[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnAlertAsync_EmptyFile_IsNeverSent()
    {
        await using var h = await IntelHarness.StartAsync();

        await h.SendAsync(Alerts.Fim(s_clean, size: "0"));
        await h.SendAsync(Alerts.Fim("d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", size: "12"));

        Assert.Equal(0, h.Service.PendingCount);
        Assert.Empty(h.Sink.Messages);
        Assert.Empty(h.Emulator.Requests);
    }

    [Fact]
    public async Task OnAlertAsync_NotSelected_IsIgnored()
    {
        await using var h = await IntelHarness.StartAsync();

        await h.SendAsync(Alerts.Fim(s_clean).Replace("\"syscheck\",\"syscheck_entry_added\"", "\"other\"", StringComparison.Ordinal));

        Assert.Equal(0, h.Service.PendingCount);
    }

    [Fact]
    public async Task OnAlertAsync_ConcurrentSameHash_OneRequestAndAnEventPerFile()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_malicious);
        h.Emulator.Latency = TimeSpan.FromMilliseconds(100);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => h.SendAsync(Alerts.Fim(s_malicious, path: $"/root/f{i}")).AsTask()));
        await h.DriveUntilAsync(() => h.Sink.Count == 20);

        Assert.Equal(1, h.Emulator.LookupCount);
        Assert.Equal(20, h.Bodies().Select(b => Between(b, "file")).Distinct().Count());
    }

    [Fact]
    public async Task Worker_WrongKey_OneCredentialsEventAndQueueKept()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { ApiKey = new Secret("wrong-key") });

        await h.SendAsync(Alerts.Fim(s_clean, path: "/root/a"));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);
        await h.SendAsync(Alerts.Fim(s_malicious, path: "/root/b"));
        await Task.Delay(100);

        var body = h.Bodies().Single();
        Assert.StartsWith("{\"virustotal\": {\"error\": 403, \"description\": \"Error: Check credentials\", \"http_status\": 401, ", body, StringComparison.Ordinal);
        Assert.Contains("WrongCredentialsError", body, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key", string.Join("\n", h.Sink.Messages), StringComparison.Ordinal);
        Assert.Equal("[001] (web) 10.0.0.5->virustotal", h.Sink.Messages[0].Location);
        Assert.Equal(2, h.Service.PendingCount);
        Assert.Single(h.Emulator.Requests);
    }

    [Fact]
    public async Task Worker_MinuteQuotaAt429_OneRateLimitEventThenEveryFileCompletes()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { RequestsPerMinute = 100 });
        h.Emulator.MinuteQuota = 2;
        var files = Enumerable.Range(0, 5).Select(i => EmulatedFile.Synthetic($"minute-{i}", malicious: i % 2)).ToList();
        files.ForEach(f => h.Emulator.Add(f));

        foreach (var f in files)
        {
            await h.SendAsync(Alerts.Fim(f));
        }

        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        var errors = h.Bodies().Where(b => b.Contains("\"error\": 204", StringComparison.Ordinal)).ToList();
        var error = Assert.Single(errors);
        Assert.Contains("\"http_status\": 429, \"quota\": \"minute\"", error, StringComparison.Ordinal);
        Assert.Equal(5, h.Bodies().Count(b => b.Contains("\"found\": 1", StringComparison.Ordinal)));
        Assert.True(h.Emulator.Requests.Count(r => r.Status == 429) >= 1);
    }

    [Fact]
    public async Task Worker_FirstRequestSlowToArrive_MinuteCountsFromItsAnswer_VirusTotalNeverSeesMoreThanTheQuota()
    {
        // Four a minute: the first request reaches VirusTotal 20 s after its slot was granted. Counted from the
        // grant, the fifth would go out 40 s after VirusTotal saw the first: five in its minute.
        await using var h = await IntelHarness.StartAsync(o => o with { RequestsPerMinute = 4 });
        var files = Enumerable.Range(0, 5).Select(i => EmulatedFile.Synthetic($"slow-{i}", malicious: 0)).ToList();
        files.ForEach(f => h.Emulator.Add(f));
        var arrivals = 0;
        h.Emulator.OnArrival = () =>
        {
            if (Interlocked.Increment(ref arrivals) == 1)
            {
                h.Time.Advance(TimeSpan.FromSeconds(20));
            }
        };

        foreach (var f in files)
        {
            await h.SendAsync(Alerts.Fim(f));
        }

        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        var requests = h.Emulator.Requests;
        Assert.Equal(5, requests.Count);
        Assert.True(h.Emulator.MaxRequestsInAnyMinute(IntelHarness.Key) <= 4, string.Join(", ", requests.Select(r => $"{r.At:HH:mm:ss.fff}")));
        Assert.True(requests[4].At - requests[0].At >= TimeSpan.FromMinutes(1), $"{requests[0].At:O} .. {requests[4].At:O}");
    }

    [Fact]
    public async Task Worker_RetryAfterHeader_IsHonoured()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { RequestsPerMinute = 100 });
        h.Emulator.Add(s_clean);
        h.Emulator.RetryAfter = TimeSpan.FromSeconds(7);
        h.Emulator.EnqueueFault(EmulatorFault.Quota429);
        var start = h.Time.GetUtcNow();

        await h.SendAsync(Alerts.Fim(s_clean));
        await h.DriveUntilAsync(() => h.Service.WaitingUntil is not null);

        Assert.Equal(start + TimeSpan.FromSeconds(7), h.Service.WaitingUntil);
        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);
    }

    [Fact]
    public async Task Worker_DailyQuotaAt429_WaitsForUtcMidnightWithOneEvent()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.DailyQuota = 2;
        var files = Enumerable.Range(0, 4).Select(i => EmulatedFile.Synthetic($"daily-{i}", malicious: 1)).ToList();
        files.ForEach(f => h.Emulator.Add(f));
        foreach (var f in files)
        {
            await h.SendAsync(Alerts.Fim(f));
        }

        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        Assert.Single(h.Bodies(), b => b.Contains("\"error\": 204", StringComparison.Ordinal));
        Assert.Equal(4, h.Bodies().Count(b => b.Contains("\"malicious\": 1", StringComparison.Ordinal)));
        var answered = h.Emulator.Requests.Where(r => r.Status == 200).ToList();
        Assert.Equal(new DateTime(2024, 3, 2), answered[^1].At.UtcDateTime.Date);
        // Three refusals a minute apart, then nothing until midnight.
        Assert.Equal(3, h.Emulator.Requests.Count(r => r.Status == 429));
        Assert.True(h.Emulator.MaxRequestsInAnyDay(IntelHarness.Key) <= 2 + 3);
    }

    [Fact]
    public async Task Worker_OwnDailyLimit_NeverExceededAndReportedOnce()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { RequestsPerMinute = 100, RequestsPerDay = 3 });
        var files = Enumerable.Range(0, 5).Select(i => EmulatedFile.Synthetic($"own-daily-{i}", malicious: 0)).ToList();
        files.ForEach(f => h.Emulator.Add(f));
        foreach (var f in files)
        {
            await h.SendAsync(Alerts.Fim(f));
        }

        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        Assert.Equal(3, h.Emulator.MaxRequestsInAnyDay(IntelHarness.Key));
        Assert.DoesNotContain(h.Emulator.Requests, r => r.Status == 429);
        var error = Assert.Single(h.Bodies(), b => b.Contains("\"error\": 204", StringComparison.Ordinal));
        Assert.Contains("\"quota\": \"daily\", \"retry_at\": \"2024-03-02 00:00:00\"", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_503_RetriesWithoutErrorEvent()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_malicious);
        h.Emulator.EnqueueFault(EmulatorFault.Transient503, 2);

        await h.SendAsync(Alerts.Fim(s_malicious));
        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        Assert.Single(h.Bodies());
        Assert.Contains("\"malicious\": 1", h.Bodies()[0], StringComparison.Ordinal);
        Assert.Equal([503, 503, 200], h.Emulator.Requests.Select(r => r.Status));
    }

    [Fact]
    public async Task Worker_LongOutage_OneErrorEventThenCompletes()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_clean);
        h.Emulator.EnqueueFault(EmulatorFault.Deadline504, 6);

        await h.SendAsync(Alerts.Fim(s_clean));
        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        var error = Assert.Single(h.Bodies(), b => b.Contains("\"error\"", StringComparison.Ordinal));
        Assert.StartsWith("{\"virustotal\": {\"error\": 504, \"description\": \"Error: API request fail\", \"http_status\": 504", error, StringComparison.Ordinal);
        Assert.Single(h.Bodies(), b => b.Contains("\"found\": 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Worker_Timeouts_RetryThenOne408Event()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { Timeout = TimeSpan.FromMilliseconds(150), Retries = 1 });
        h.Emulator.Add(s_malicious);
        h.Emulator.EnqueueFault(EmulatorFault.Hang, 3);

        await h.SendAsync(Alerts.Fim(s_malicious));
        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        var error = Assert.Single(h.Bodies(), b => b.Contains("\"error\"", StringComparison.Ordinal));
        Assert.StartsWith("{\"virustotal\": {\"error\": 408, \"description\": \"Error: API request timed out\", \"http_status\": 0, ", error, StringComparison.Ordinal);
        Assert.Single(h.Bodies(), b => b.Contains("\"malicious\": 1", StringComparison.Ordinal));
        Assert.Equal(4, h.Emulator.LookupCount);
    }

    [Fact]
    public async Task Worker_MalformedOnce_RetriesAndCompletes()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_malicious);
        h.Emulator.EnqueueFault(EmulatorFault.Malformed);

        await h.SendAsync(Alerts.Fim(s_malicious));
        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        Assert.Single(h.Bodies());
        Assert.Equal(2, h.Emulator.LookupCount);
    }

    [Fact]
    public async Task Worker_AlwaysMalformed_OneEventNamingThePeerThenGivesUp()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { Retries = 2 });
        h.Emulator.PersistentFault = EmulatorFault.Malformed;

        await h.SendAsync(Alerts.Fim(s_malicious, path: "/root/a"));
        await h.SendAsync(Alerts.Fim(s_malicious, path: "/root/b"));
        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        var error = Assert.Single(h.Bodies());
        Assert.Contains($"malformed file report from https://127.0.0.1:{h.Emulator.BaseUrl.Port}", error, StringComparison.Ordinal);
        Assert.Equal(3, h.Emulator.LookupCount);
        Assert.Equal(2, h.Service.Store.FailedCount());
    }

    [Fact]
    public async Task Worker_ThousandAlertsOverFiftyHashes_FiftyRequestsWithinQuota()
    {
        await using var h = await IntelHarness.StartAsync();
        var files = Enumerable.Range(0, 50).Select(i => EmulatedFile.Synthetic($"bulk-{i}", malicious: i % 3 == 0 ? 4 : 0)).ToList();
        files.ForEach(f => h.Emulator.Add(f));
        h.Emulator.MinuteQuota = 4;
        h.Emulator.DailyQuota = 500;

        for (var i = 0; i < 1000; i++)
        {
            await h.SendAsync(Alerts.Fim(files[i % 50], path: $"/data/file{i}", mode: i % 2 == 0 ? "realtime" : "scheduled"));
        }

        await h.DriveUntilAsync(() => h.Sink.Count == 1000, timeoutSeconds: 60);

        Assert.Equal(50, h.Emulator.LookupCount);
        Assert.True(h.Emulator.MaxRequestsInAnyMinute(IntelHarness.Key) <= 4);
        Assert.DoesNotContain(h.Emulator.Requests, r => r.Status != 200);
        Assert.Equal(1000, h.Bodies().Select(b => Between(b, "file")).Distinct().Count());
        Assert.Equal(0, h.Service.PendingCount);
    }

    [Fact]
    public async Task Worker_RealtimeBeforeScheduled_NewestFirst()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { RequestsPerMinute = 1 });
        var files = Enumerable.Range(0, 4).Select(i => EmulatedFile.Synthetic($"order-{i}", malicious: 0)).ToList();
        files.ForEach(f => h.Emulator.Add(f));
        await h.SendAsync(Alerts.Fim(files[0], mode: "scheduled"));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        await h.SendAsync(Alerts.Fim(files[1], mode: "scheduled"));
        await h.SendAsync(Alerts.Fim(files[2], mode: "realtime"));
        await h.SendAsync(Alerts.Fim(files[3], mode: "realtime"));
        await h.DriveUntilAsync(() => h.Sink.Count == 4);

        Assert.Equal(
            [files[0].Sha256, files[3].Sha256, files[2].Sha256, files[1].Sha256],
            h.Emulator.Requests.Select(r => r.Path["/api/v3/files/".Length..]));
    }

    [Fact]
    public async Task Worker_RestartMidQueue_EveryLookupCompletesExactlyOnce()
    {
        await using var h = await IntelHarness.StartAsync();
        var files = Enumerable.Range(0, 12).Select(i => EmulatedFile.Synthetic($"restart-{i}", malicious: 1)).ToList();
        files.ForEach(f => h.Emulator.Add(f));
        for (var i = 0; i < 24; i++)
        {
            await h.SendAsync(Alerts.Fim(files[i % 12], path: $"/r/{i}", id: $"9.{i}"));
        }

        await h.DriveUntilAsync(() => h.Sink.Count >= 6);
        await h.Service.DisposeAsync();
        var pending = new IntelStoreProbe(h.DatabasePath).Pending();
        Assert.InRange(pending, 1, 18);

        h.CreateService();
        h.Service.Start();
        await h.DriveUntilAsync(() => h.Service.PendingCount == 0);

        var ids = h.Bodies().Select(b => Between(b, "alert_id")).ToList();
        Assert.Equal(24, ids.Count);
        Assert.Equal(24, ids.Distinct().Count());
        Assert.Equal(12, h.Emulator.LookupCount);
    }

    [Fact]
    public async Task OnAlertAsync_NoApiKey_EicarDetectedByBuiltinList()
    {
        await using var h = await IntelHarness.StartAsync(o => o with { ApiKey = new Secret("") });

        await h.SendAsync(Alerts.Fim(Eicar.Md5, Eicar.Sha1, Eicar.Sha256, path: "/root/eicar.com", id: "1.7"));

        var message = Assert.Single(h.Sink.Messages);
        Assert.Equal(
            "1:[001] (web) 10.0.0.5->vigil-intel:{\"vigil\": {\"list\": \"builtin\", \"matched\": \"sha256\", "
            + $"\"hash\": \"{Eicar.Sha256}\", \"threat\": \"EICAR-Test-File\", \"source\": {{\"alert_id\": \"1.7\", \"file\": \"/root/eicar.com\", "
            + $"\"md5\": \"{Eicar.Md5}\", \"sha1\": \"{Eicar.Sha1}\", \"sha256\": \"{Eicar.Sha256}\", \"size\": 68}}}}, "
            + $"\"virustotal\": {{\"source\": {{\"alert_id\": \"1.7\", \"file\": \"/root/eicar.com\", "
            + $"\"md5\": \"{Eicar.Md5}\", \"sha1\": \"{Eicar.Sha1}\", \"sha256\": \"{Eicar.Sha256}\", \"size\": 68}}}}, \"integration\": \"vigil-intel\"}}",
            message.ToString());
        Assert.Empty(h.Emulator.Requests);
    }

    [Fact]
    public async Task OnAlertAsync_ManagerAlert_UsesBareLocation()
    {
        await using var h = await IntelHarness.StartAsync();
        h.Emulator.Add(s_clean);

        await h.SendAsync(Alerts.Fim(s_clean, agentId: "000", agentName: "manager", agentIp: null));
        await h.DriveUntilAsync(() => h.Sink.Count == 1);

        Assert.StartsWith("1:virustotal:{\"virustotal\": ", h.Sink.Messages[0].ToString(), StringComparison.Ordinal);
    }

    private static string Between(string body, string key)
    {
        var start = body.IndexOf($"\"{key}\": \"", StringComparison.Ordinal) + key.Length + 5;
        return body[start..body.IndexOf('"', start)];
    }

    private sealed class IntelStoreProbe(string path)
    {
        public int Pending()
        {
            using var store = IntelStore.Open(path);
            return store.PendingCount();
        }
    }
}
