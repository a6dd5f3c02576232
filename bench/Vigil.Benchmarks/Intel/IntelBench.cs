using System.Diagnostics;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Intel;
using Vigil.Intel.Selection;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Benchmarks.Intel;

/// <summary>Shared pieces of the intelligence scenarios: an emulator, a service on a temp store, FIM alerts.</summary>
internal static class IntelBench
{
    public const string Key = "bench-key";

    public static IntelOptions Options(VirusTotalEmulator emulator, string directory) => new()
    {
        ApiKey = new Secret(Key),
        BaseUrl = emulator.BaseUrl,
        TrustedCertificate = emulator.WriteCertificatePem(Path.Combine(directory, "vt.pem")),
        RequestsPerMinute = int.MaxValue,
        RequestsPerDay = int.MaxValue,
    };

    public static IntelService Service(IntelOptions options, IEventSink sink, string directory) =>
        new(options, new AlertSelector(new IntegrationOptions { Name = "virustotal", Groups = ["syscheck"] }), sink,
            IntelStore.Open(Path.Combine(directory, "intel.db")), TimeProvider.System, logger: null, http: null);

    public static string Alert(EmulatedFile file, int n) =>
        "{\"timestamp\":\"2023-11-14T22:13:20.000+0000\",\"rule\":{\"level\":5,\"description\":\"File added to the system.\",\"id\":\"554\",\"firedtimes\":1,\"mail\":false,\"groups\":[\"ossec\",\"syscheck\",\"syscheck_entry_added\",\"syscheck_file\"]},"
        + "\"agent\":{\"id\":\"001\",\"name\":\"web\",\"ip\":\"10.0.0.5\"},\"manager\":{\"name\":\"manager\"},\"id\":\"1700000000." + n + "\",\"full_log\":\"File added\",\"decoder\":{\"name\":\"syscheck_new_entry\"},"
        + "\"syscheck\":{\"path\":\"/data/f" + n + "\",\"mode\":\"realtime\",\"size_after\":\"68\",\"md5_after\":\"" + file.Md5 + "\",\"sha1_after\":\"" + file.Sha1
        + "\",\"sha256_after\":\"" + file.Sha256 + "\",\"event\":\"added\"},\"location\":\"syscheck\"}";

    public static string Ms(double ms) => ms.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);

    public static double ElapsedMs(long start) => Stopwatch.GetElapsedTime(start).TotalMilliseconds;
}

/// <summary>Signals each published event.</summary>
internal sealed class SignalSink : IEventSink
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public Task Arm()
    {
        _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _next.Task;
    }

    public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        _next.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
