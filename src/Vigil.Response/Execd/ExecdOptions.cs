using Vigil.Core.Configuration;

namespace Vigil.Response.Execd;

/// <summary>What execd runs and how long a run may take.</summary>
internal sealed record ExecdOptions
{
    /// <summary>The install root: programs live in <c>&lt;home&gt;/active-response/bin</c> and run with it as working directory.</summary>
    public required string Home { get; init; }

    /// <summary>The <c>&lt;command&gt;</c> blocks.</summary>
    public IReadOnlyList<CommandOptions> Commands { get; init; } = [];

    /// <summary>The <c>&lt;active-response&gt;</c> blocks: they give the wire names (<c>&lt;command&gt;&lt;timeout&gt;</c>) and timeouts.</summary>
    public IReadOnlyList<ActiveResponseOptions> ActiveResponses { get; init; } = [];

    /// <summary>execd's <c>repeated_offenders</c>, in minutes (up to 5 values).</summary>
    public IReadOnlyList<int> RepeatedOffendersMinutes { get; init; } = [];

    /// <summary>
    /// How long one run may take, from start to exit (Wazuh has no limit); past it the program's whole process
    /// tree is killed and that is logged.
    /// </summary>
    public TimeSpan RunTimeLimit { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often expired timeouts are looked for (Wazuh: every second).</summary>
    public TimeSpan TimeoutPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public string BinDirectory => Path.Combine(Home, "active-response", "bin");

    /// <summary>
    /// Where programs run (their working directory): the instance's data directory, so that a program that finds its
    /// log from its own path (the guide's remove-threat.sh writes <c>../logs/active-responses.log</c> next to its
    /// folder) writes this instance's log, not one shared by every instance of the install. Each program is reached
    /// there through <c>active-response/bin/NAME</c>, a symbolic link execd keeps to the program in the home.
    /// Null: the home, as Wazuh's execd does.
    /// </summary>
    public string? RunDirectory { get; init; }

    /// <summary>
    /// Programs execd runs in its own process instead of starting them, by their <c>active-response/bin/…</c> path:
    /// the same stdin exchange over in-memory pipes, without a process start (Vigil's own remove-threat, when the
    /// script at that path is Vigil's wrapper). Everything else runs as a child process.
    /// </summary>
    public IReadOnlyDictionary<string, InProcessProgram> InProcess { get; init; } = new Dictionary<string, InProcessProgram>();
}

/// <summary>An active-response program run in process: reads execd's lines from <c>input</c>, answers on <c>output</c>, returns its exit code.</summary>
internal delegate Task<int> InProcessProgram(TextReader input, TextWriter output, CancellationToken cancellationToken);
