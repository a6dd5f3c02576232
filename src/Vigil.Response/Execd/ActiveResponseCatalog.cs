namespace Vigil.Response.Execd;

/// <summary>A command execd may run: the file name in <c>active-response/bin</c> and its timeout in seconds.</summary>
internal sealed record ResolvedCommand(string WireName, string Executable, int TimeoutSeconds)
{
    /// <summary>The path as Wazuh passes it (argv0 and <c>parameters.program</c>): relative to the install root.</summary>
    public string Program => "active-response/bin/" + Executable;
}

/// <summary>
/// Resolves an AR wire name the way Wazuh's <c>ar.conf</c> lookup does (spec §5.1, §5.4), but strictly: the
/// executable must be a plain file name that exists as a regular file in <c>active-response/bin</c>. Names with
/// '/', "..", NUL, or a leading '!' whose rest is not such a name are refused — the path traversal behind
/// Wazuh's <c>"!../../../../bin/ls"</c> CVE.
/// </summary>
internal sealed class ActiveResponseCatalog(ExecdOptions options)
{
    /// <summary>The command for <paramref name="wireName"/>, or null and why not.</summary>
    public ResolvedCommand? Resolve(string wireName, out string? error)
    {
        if (wireName.StartsWith('!'))
        {
            // "!name": run active-response/bin/name directly, timeout 0.
            var name = wireName[1..];
            return Check(new ResolvedCommand(wireName, name, 0), out error);
        }

        foreach (var ar in options.ActiveResponses)
        {
            if (ar.WireName != wireName)
            {
                continue;
            }

            var command = options.Commands.FirstOrDefault(c => c.Name == ar.Command);
            if (command is null)
            {
                error = $"active response {wireName}: no <command> named {ar.Command}";
                return null;
            }

            return Check(new ResolvedCommand(wireName, command.Executable, command.TimeoutAllowed ? ar.TimeoutSeconds : 0), out error);
        }

        error = $"unknown active response {wireName}";
        return null;
    }

    /// <summary>Null when <paramref name="name"/> is a plain file name; else why not.</summary>
    public static string? CheckFileName(string name)
    {
        if (name.Length == 0)
        {
            return "the executable name is empty";
        }

        if (name is "." or ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal)
            || name.Contains("..", StringComparison.Ordinal) || name.Any(char.IsControl) || name.StartsWith('!'))
        {
            return $"the executable name {name} is not a plain file name inside active-response/bin";
        }

        return null;
    }

    private ResolvedCommand? Check(ResolvedCommand command, out string? error)
    {
        if (CheckFileName(command.Executable) is { } problem)
        {
            error = $"refused {command.WireName}: {problem}";
            return null;
        }

        var path = Path.Combine(options.BinDirectory, command.Executable);
        var info = new FileInfo(path);
        if (!info.Exists || info.LinkTarget is not null)
        {
            error = info.LinkTarget is not null
                ? $"refused {command.WireName}: {command.Program} is a symbolic link"
                : $"active response {command.WireName}: {command.Program} does not exist";
            return null;
        }

        error = null;
        return command;
    }
}
