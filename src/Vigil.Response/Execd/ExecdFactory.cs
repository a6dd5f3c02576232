using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Core.Configuration;
using Vigil.Response.RemoveThreat;

namespace Vigil.Response.Execd;

/// <summary>The execd every host runs: the configuration's commands, Vigil's remove-threat in process when the shipped wrapper is in place.</summary>
internal static class ExecdFactory
{
    public static ExecDaemon Create(OssecConfig config, string home, string data, string activeResponseLog, TimeProvider time, ILogger? logger = null) =>
        new(
            new ExecdOptions
            {
                Home = home,
                RunDirectory = data,
                Commands = config.Commands,
                ActiveResponses = config.ActiveResponses,
                InProcess = RemoveThreatFactory.InProcess(home, data, [.. config.Syscheck.Directories.Select(d => d.Path)], activeResponseLog, time, config.Syscheck.FileMaxSizeBytes),
            },
            new ActiveResponseLog(activeResponseLog, time),
            time)
        {
            Logger = logger ?? NullLogger.Instance,
        };
}
