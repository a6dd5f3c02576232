using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Vigil.Core;

namespace Vigil.Storage.Postgres.Responses;

/// <summary>An active response waiting in the shared database for its agent: keyed by the manager that decided it
/// (<see cref="Origin"/>) and that manager's outbox id, the pair the agent carries each response out once by.</summary>
internal sealed record RoutedResponse(string Origin, ulong Id, string AgentId, string Name, string Json, DateTimeOffset Deadline);

/// <summary>
/// Active-response routing between managers on one PostgreSQL. Each agent holds a lease (<c>agent_leases</c>) on
/// the manager it is connected to, taken when it connects, renewed while it stays and released when it goes; a
/// lease not renewed (a manager killed) expires after <see cref="LeaseTime"/>. A response for an agent this manager
/// is not connected to goes to <c>routed_responses</c>, and the manager holding the agent's lease is told with
/// <c>NOTIFY vigil_responses</c>; it sends it on the agent's stream and deletes it once the agent confirms it. A
/// response for an agent no manager holds waits there for the manager the agent connects to next. The origin
/// manager keeps the deadline: a row left at its deadline is taken back by it and alerted as not delivered.
/// </summary>
internal sealed class PostgresResponseRouting : IAsyncDisposable
{
    public const string Channel = "vigil_responses";

    /// <summary>How long a lease lasts without renewal; a manager renews its agents' leases every third of it.</summary>
    public static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(30);

    private readonly PostgresDatabase _database;
    private readonly string _managerName;
    private readonly ILogger _logger;
    private readonly Action<string> _notified;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _listener;

    // notified: called (on the listener's thread) with an agent id when another manager routed a response to this
    // one for that agent, or for an agent no manager held.
    public PostgresResponseRouting(PostgresDatabase database, string managerName, ILogger logger, Action<string> notified)
    {
        _database = database;
        _managerName = managerName;
        _logger = logger;
        _notified = notified;
        _listener = Task.Run(() => ListenAsync(_stopping.Token));
    }

    public string ManagerName => _managerName;

    /// <summary>The database's URL without secrets, for logs.</summary>
    public string Database => _database.Display;

    /// <summary>Set once LISTEN is in place (tests wait for it; a notification before it is found by the next poll).</summary>
    public TaskCompletionSource Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Takes (or takes over) the agent's lease for this manager.</summary>
    public Task TakeLeaseAsync(string agentId, CancellationToken cancellationToken) => RunAsync(async connection =>
    {
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO agent_leases(agent_id, manager, expires_at) VALUES ($1, $2, now() + $3)
            ON CONFLICT (agent_id) DO UPDATE SET manager = excluded.manager, expires_at = excluded.expires_at, taken_at = now()
            """,
            connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(agentId));
        command.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
        command.Parameters.Add(Interval(LeaseTime));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }, cancellationToken);

    /// <summary>Renews this manager's leases of the agents connected to it (an agent another manager took stays with it).</summary>
    public Task RenewLeasesAsync(IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) => agentIds.Count == 0
        ? Task.CompletedTask
        : RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "UPDATE agent_leases SET expires_at = now() + $3 WHERE manager = $1 AND agent_id = ANY($2)",
                connection);
            command.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
            command.Parameters.Add(new NpgsqlParameter { Value = agentIds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            command.Parameters.Add(Interval(LeaseTime));
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>Releases the agent's lease if this manager holds it (one the agent already took elsewhere stays).</summary>
    public Task ReleaseLeaseAsync(string agentId, CancellationToken cancellationToken) => RunAsync(async connection =>
    {
        await using var command = new NpgsqlCommand("DELETE FROM agent_leases WHERE agent_id = $1 AND manager = $2", connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(agentId));
        command.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }, cancellationToken);

    /// <summary>The manager holding the agent's lease now, or null when none does (or it expired).</summary>
    public Task<string?> LeaseHolderAsync(string agentId, CancellationToken cancellationToken) => RunAsync(async connection =>
    {
        await using var command = new NpgsqlCommand("SELECT manager FROM agent_leases WHERE agent_id = $1 AND expires_at > now()", connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(agentId));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }, cancellationToken);

    /// <summary>
    /// Writes the responses to the shared table (a row already there, a hand-off repeated after a restart, stays as
    /// it is) and tells each agent's lease holder, in one transaction. Returns, per agent, the manager that holds its
    /// lease (null: none does; the manager it connects to next delivers).
    /// </summary>
    public Task<Dictionary<string, string?>> HandOffAsync(IReadOnlyList<RoutedResponse> responses, CancellationToken cancellationToken) => RunAsync(async connection =>
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var response in responses)
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO routed_responses(origin, id, agent_id, name, json, deadline) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (origin, id) DO NOTHING",
                connection,
                transaction);
            insert.Parameters.Add(PostgresAgentDirectory.Text(response.Origin));
            insert.Parameters.Add(new NpgsqlParameter { Value = (long)response.Id, NpgsqlDbType = NpgsqlDbType.Bigint });
            insert.Parameters.Add(PostgresAgentDirectory.Text(response.AgentId));
            insert.Parameters.Add(PostgresAgentDirectory.Text(response.Name));
            insert.Parameters.Add(PostgresAgentDirectory.Text(response.Json));
            insert.Parameters.Add(new NpgsqlParameter
            {
                Value = response.Deadline == DateTimeOffset.MaxValue ? DBNull.Value : response.Deadline.ToUniversalTime(),
                NpgsqlDbType = NpgsqlDbType.TimestampTz,
            });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        var holders = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var agent in responses.Select(r => r.AgentId).Distinct(StringComparer.Ordinal))
        {
            await using var notify = new NpgsqlCommand(
                "SELECT l.manager, pg_notify($2, COALESCE(l.manager, '') || ' ' || $1) FROM (SELECT (SELECT manager FROM agent_leases WHERE agent_id = $1 AND expires_at > now()) AS manager) l",
                connection,
                transaction);
            notify.Parameters.Add(PostgresAgentDirectory.Text(agent));
            notify.Parameters.Add(PostgresAgentDirectory.Text(Channel));
            await using var reader = await notify.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            holders[agent] = await reader.IsDBNullAsync(0, cancellationToken) ? null : reader.GetString(0);
        }

        await transaction.CommitAsync(cancellationToken);
        return holders;
    }, cancellationToken);

    /// <summary>The responses waiting for these agents (any origin, this manager's own too), oldest first.</summary>
    public Task<List<RoutedResponse>> PendingForAsync(IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) => agentIds.Count == 0
        ? Task.FromResult(new List<RoutedResponse>())
        : RunAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT origin, id, agent_id, name, json, deadline FROM routed_responses WHERE agent_id = ANY($1) ORDER BY routed_at, origin, id",
                connection);
            command.Parameters.Add(new NpgsqlParameter { Value = agentIds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            return await ReadAsync(command, cancellationToken);
        }, cancellationToken);

    /// <summary>Records that this manager sent the response on the agent's stream (what the operator sees in the table).</summary>
    public Task MarkSentAsync(RoutedResponse response, CancellationToken cancellationToken) => RunAsync(async connection =>
    {
        await using var command = new NpgsqlCommand("UPDATE routed_responses SET sent_by = $3, sent_at = now() WHERE origin = $1 AND id = $2", connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(response.Origin));
        command.Parameters.Add(new NpgsqlParameter { Value = (long)response.Id, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }, cancellationToken);

    /// <summary>The agent confirmed it: the row goes. False when it was not there (confirmed already, or never routed).</summary>
    public Task<bool> CompleteAsync(string origin, ulong id, CancellationToken cancellationToken) => RunAsync(async connection =>
    {
        await using var command = new NpgsqlCommand("DELETE FROM routed_responses WHERE origin = $1 AND id = $2", connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(origin));
        command.Parameters.Add(new NpgsqlParameter { Value = (long)id, NpgsqlDbType = NpgsqlDbType.Bigint });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }, cancellationToken);

    /// <summary>Takes back this manager's routed responses whose deadline passed (by the database's clock), to alert on.</summary>
    public Task<List<RoutedResponse>> TakeExpiredAsync(CancellationToken cancellationToken) => RunAsync(async connection =>
    {
        await using var command = new NpgsqlCommand(
            "DELETE FROM routed_responses WHERE origin = $1 AND deadline <= now() RETURNING origin, id, agent_id, name, json, deadline",
            connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
        return await ReadAsync(command, cancellationToken);
    }, cancellationToken);

    private static async Task<List<RoutedResponse>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var responses = new List<RoutedResponse>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            responses.Add(new RoutedResponse(
                reader.GetString(0),
                (ulong)reader.GetInt64(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                await reader.IsDBNullAsync(5, cancellationToken) ? DateTimeOffset.MaxValue : await reader.GetFieldValueAsync<DateTimeOffset>(5, cancellationToken)));
        }

        return responses;
    }

    private static NpgsqlParameter Interval(TimeSpan value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Interval };

    // LISTEN on a connection of its own. A payload is "MANAGER AGENT" (MANAGER empty when no manager held the
    // agent's lease); this manager wakes for its own name and for none. Reconnects when the database goes away: a
    // response routed meanwhile is found by the router's poll instead.
    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _database.Source.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, e) =>
                {
                    var space = e.Payload.IndexOf(' ', StringComparison.Ordinal);
                    if (space >= 0 && (space == 0 || e.Payload.AsSpan(0, space).SequenceEqual(_managerName)))
                    {
                        _notified(e.Payload[(space + 1)..]);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }

                Listening.TrySetResult();
                while (!cancellationToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
            {
                PostgresLog.Unavailable(_logger, _database.Display, ex.Message, "responses routed to this manager are found by its next poll instead of pushed");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, Task<T>> action, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _database.Source.OpenConnectionAsync(cancellationToken);
            return await action(connection);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
        {
            throw new VigilException($"shared database {_database.Display} unavailable: {ex.Message}", isFatal: false, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _listener.ContinueWith(_ => { }, TaskScheduler.Default);
        _stopping.Dispose();
    }
}
