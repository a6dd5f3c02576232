using Microsoft.Extensions.Logging;

namespace Vigil.Intel;

internal sealed partial class IntelService
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.AlertNotJson, LogLevel.Warning, "An alert is not JSON and was skipped: {Reason}")]
        public static partial void AlertNotJson(ILogger logger, string reason);

        [LoggerMessage(EventIds.EmptyFileSkipped, LogLevel.Debug, "{FilePath} is empty; not looked up")]
        public static partial void EmptyFileSkipped(ILogger logger, string filePath);

        [LoggerMessage(EventIds.QuotaExceeded, LogLevel.Warning, "VirusTotal {Quota} quota exceeded; lookups wait until {Until:u}")]
        public static partial void QuotaExceeded(ILogger logger, string quota, DateTimeOffset until);

        [LoggerMessage(EventIds.KeyRejected, LogLevel.Error, "{Peer} rejected the API key ({HttpStatus} {Code}); lookups stay queued")]
        public static partial void KeyRejected(ILogger logger, int httpStatus, string code, string peer);

        [LoggerMessage(EventIds.TransientFailure, LogLevel.Warning, "VirusTotal lookup failed: {Detail}; retrying at {RetryAt:u}")]
        public static partial void TransientFailure(ILogger logger, string detail, DateTimeOffset retryAt);

        [LoggerMessage(EventIds.GaveUp, LogLevel.Error, "Gave up looking up {Hash}: {Detail}")]
        public static partial void GaveUp(ILogger logger, string hash, string detail);

        [LoggerMessage(EventIds.Uploaded, LogLevel.Information, "Uploaded {FilePath} to VirusTotal; analysis {AnalysisId}")]
        public static partial void Uploaded(ILogger logger, string filePath, string analysisId);

        [LoggerMessage(EventIds.UploadSkipped, LogLevel.Information, "Not uploading {FilePath}: {Reason}; the unknown verdict stands")]
        public static partial void UploadSkipped(ILogger logger, string filePath, string reason);

        [LoggerMessage(EventIds.UploadFailed, LogLevel.Warning, "Upload of {FilePath} failed: {Reason}; the unknown verdict stands")]
        public static partial void UploadFailed(ILogger logger, string filePath, string reason);

        [LoggerMessage(EventIds.StepFailed, LogLevel.Error, "The lookup worker failed a step; retrying")]
        public static partial void StepFailed(ILogger logger, Exception exception);
    }
}
