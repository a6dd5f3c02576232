using System.Text.Json;
using Vigil.Core.Events;

namespace Vigil.Fim.Fanotify;

/// <summary>
/// Prevention alerts as queue-1 JSON messages at location <c>vigil-prevention</c>, raised by
/// ruleset/rules/0493-vigil_prevention_rules.xml (200800–200807; docs/prevention.md).
/// </summary>
internal static class PreventionMessages
{
    public const string Location = "vigil-prevention";

    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string EventName(PreventionAlertKind kind) => kind switch
    {
        PreventionAlertKind.Denied => "denied",
        PreventionAlertKind.WouldDeny => "would_deny",
        PreventionAlertKind.Deadline => "deadline",
        PreventionAlertKind.Overload => "overload",
        PreventionAlertKind.Stopped => "stopped",
        PreventionAlertKind.Error => "error",
        _ => "unavailable",
    };

    /// <summary>The message with the bare location, as FIM's own (an agent's transport adds the agent part).</summary>
    public static EventMessage Message(PreventionAlert alert) => new(EventMessage.LocalFileQueue, Location, Json(alert));

    public static string Json(PreventionAlert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            w.WriteStartObject();
            w.WriteStartObject("vigil");
            w.WriteStartObject("prevention");
            w.WriteString("event", EventName(alert.Kind));
            w.WriteString("decision", alert.Decision);
            if (alert.Path is not null)
            {
                w.WriteString("access", alert.Access);
                w.WriteString("mode", alert.Mode.ToString().ToLowerInvariant());
                w.WriteString("file", alert.Path);
            }

            if (alert.Sha256 is not null)
            {
                w.WriteString("sha256", alert.Sha256);
            }

            if (alert.Verdict.IsMalicious)
            {
                w.WriteString("source", alert.Verdict.Source);
                if (alert.Verdict.Threat is not null)
                {
                    w.WriteString("threat", alert.Verdict.Threat);
                }
            }

            if (alert.Process is { } process)
            {
                w.WriteStartObject("process");
                w.WriteNumber("pid", process.Pid);
                w.WriteString("exe", process.Executable);
                w.WriteString("cmdline", process.CommandLine);
                if (process.Uid is { } uid)
                {
                    w.WriteNumber("uid", uid);
                }

                w.WriteEndObject();
            }

            if (alert.Count != 1)
            {
                w.WriteNumber("count", alert.Count);
            }

            if (alert.Detail is not null)
            {
                w.WriteString("detail", alert.Detail);
            }

            w.WriteEndObject();
            w.WriteEndObject();

            if (alert.Kind is PreventionAlertKind.Denied && alert.Path is not null)
            {
                // Where the removal (rule 100092 and remove-threat) looks for the file, as for the other intelligence.
                w.WriteStartObject("virustotal");
                w.WriteStartObject("source");
                w.WriteString("file", alert.Path);
                w.WriteString("sha256", alert.Sha256);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteString("integration", Location);
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
