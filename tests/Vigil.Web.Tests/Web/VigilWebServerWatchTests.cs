using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Web.Tests.Web;

/// <summary>
/// Counts this process's inotify watches, so it runs alone: the test hosts of other classes reload their
/// configuration on change and watch their content root while they run.
/// </summary>
[CollectionDefinition(nameof(InotifyWatchCount), DisableParallelization = true)]
public sealed class InotifyWatchCount
{
}

[Collection(nameof(InotifyWatchCount))]
public sealed class VigilWebServerWatchTests : IDisposable
{
    private readonly TempDirectory _directory = new("vigil-webserver-watch");
    private readonly FakeTimeProvider _time = new(TestAlerts.Now);
    private readonly AlertIndex _index;

    public VigilWebServerWatchTests()
    {
        _index = new AlertIndex(AlertIndex.PathUnder(_directory.Path), new AlertIndexOptions(), _time);
    }

    public void Dispose()
    {
        _index.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task StartAsync_Listening_WatchesNoDirectory()
    {
        // A web host that reloads its configuration on change watches its content root, and every directory below
        // it, for a changed appsettings.json; the dashboard reads no configuration file and must add no watch.
        var before = InotifyWatches();

        await using var server = await VigilWebServer.StartAsync(
            new WebOptions { DataDirectory = _directory.Path, Port = 0, InitialAdminPassword = "watch test password" },
            _index, new AlertFeed(), new FakeManagerOperations(), NullLoggerFactory.Instance, _time, TextWriter.Null, CancellationToken.None);

        // At most as many as before: a host that an earlier test disposed may give its watches back meanwhile.
        var after = InotifyWatches();
        Assert.True(after <= before, $"the web host added {after - before} inotify watches ({before} before it started, {after} while it listens)");
    }

    private static int InotifyWatches()
    {
        var watches = 0;
        foreach (var fd in Directory.GetFiles("/proc/self/fdinfo"))
        {
            try
            {
                watches += File.ReadLines(fd).Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }

        return watches;
    }
}
