using System.Buffers;
using System.Text;
using System.Text.Json;
using Vigil.Analysis;
using Vigil.Analysis.Decoding;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;

namespace Vigil.Hosting;

/// <summary>
/// Per-event failure isolation for an analysis loop: an event that a stage cannot handle — whatever it throws — is
/// logged, kept in the dead-letter store, and becomes an alert of rule 200500 naming its agent, location and the
/// reason; the loop goes on with the next event. Not thread-safe (one per loop, like the pipeline).
/// </summary>
internal sealed class AnalysisGuard(AnalysisPipeline pipeline, DeadLetterStore? deadLetters, StageMonitor.Stage stage, Action<string> report)
{
    /// <summary>The location of the notices (after the agent part): rule 200501 matches it.</summary>
    public const string NoticeLocation = "vigil-deadletter";

    public AnalysisPipeline Pipeline => pipeline;

    public StageMonitor.Stage Stage => stage;

    /// <summary>
    /// Analyses one event; one that cannot be analysed, or is not a valid message of its format (a dead letter by
    /// definition, docs/text.md), gives the dead-letter notice's result instead.
    /// </summary>
    public AnalysisResult Process(EventMessage message, ulong sequence = 0)
    {
        try
        {
            var analysisEvent = pipeline.Decode(message);
            if (analysisEvent.InvalidReason is { } invalid)
            {
                stage.Done(); // the stage works: the event is broken
                return Failed("decoding", message, sequence, new InvalidEventException(invalid));
            }

            var result = pipeline.Process(analysisEvent);
            stage.Done();
            return result;
        }
        catch (Exception ex)
        {
            stage.Done(failed: true);
            return Failed("analysis", message, sequence, ex);
        }
    }

    /// <summary>
    /// Records that <paramref name="stageName"/> gave up on <paramref name="message"/>: a log line, a dead letter and the
    /// notice's alert (its result is returned for the caller to handle as any other; it is never a dead letter itself).
    /// </summary>
    public AnalysisResult Failed(string stageName, EventMessage message, ulong sequence, Exception error)
    {
        var notice = Shelve(stageName, message, sequence, error, out var id);
        try
        {
            return pipeline.Process(notice);
        }
        catch (Exception ex)
        {
            report($"vigil: the notice of dead letter {id} could not be analysed: {DeadLetterStore.ReasonOf(ex)}");
            return AnalysisResult.None;
        }
    }

    /// <summary>
    /// As <see cref="Failed"/>, but returns the notice's event instead of analysing it: a host queues it durably when
    /// it is outside a batch (after a commit), so that it is analysed, written and committed at once with the next.
    /// </summary>
    public EventMessage Shelve(string stageName, EventMessage message, ulong sequence, Exception error) =>
        Shelve(stageName, message, sequence, error, out _);

    private EventMessage Shelve(string stageName, EventMessage message, ulong sequence, Exception error, out long? id)
    {
        var (agent, location) = message.SplitLocation();
        var agentText = agent is null ? "000 (this host)" : $"{agent.Id} ({EventText.Scrub(agent.Name)})";
        id = null;
        try
        {
            id = deadLetters?.Add(stageName, message, sequence, error);
        }
        catch (Exception storeError)
        {
            report($"vigil: the dead-letter store could not keep an event of agent {agentText}: {DeadLetterStore.ReasonOf(storeError)}");
        }

        var reason = DeadLetterStore.ReasonOf(error);
        report($"vigil: event of agent {agentText} at {EventText.Scrub(location)} could not be handled by {stageName}: {reason}"
            + (id is { } kept ? $"; kept as dead letter {kept} (vigil deadletter show {kept})" : ""));
        return Notice(message, stageName, id, reason);
    }

    /// <summary>The queue-1 event rule 200500 alerts on: JSON naming the dead letter, the agent, the location and the reason.</summary>
    internal static EventMessage Notice(EventMessage failed, string stageName, long? id, string reason)
    {
        var (agent, location) = failed.SplitLocation();
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("integration", NoticeLocation);
            json.WriteStartObject("vigil");
            json.WriteStartObject("dead_letter");
            if (id is { } value)
            {
                json.WriteNumber("id", value);
            }

            json.WriteString("stage", stageName);
            json.WriteStartObject("agent");
            json.WriteString("id", agent?.Id ?? "000");
            json.WriteString("name", EventText.Scrub(agent?.Name ?? Environment.MachineName));
            json.WriteEndObject();
            json.WriteString("location", EventText.Truncate(EventText.Scrub(location), 256));
            json.WriteString("reason", reason);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        var noticeLocation = agent is null
            ? NoticeLocation
            : EventMessage.AgentLocation(new AgentIdentity(agent.Id, EventText.Scrub(agent.Name), agent.Ip), NoticeLocation);
        return new EventMessage(EventMessage.LocalFileQueue, noticeLocation, text);
    }
}
