using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Vigil.Core.Configuration;

namespace Vigil.Hosting;

/// <summary>
/// A host's settings bound and validated through the .NET options system (<see cref="IOptions{TOptions}"/> with its
/// <see cref="IValidateOptions{TOptions}"/>) when its command starts, before anything is opened or started: a start
/// that would fail says every reason, one line each, and runs nothing.
/// </summary>
internal static class HostSettings
{
    /// <summary>Binds <typeparamref name="T"/> with <paramref name="bind"/> and validates it; false with the failures, in order.</summary>
    public static bool TryBind<T>(Action<T> bind, IReadOnlyList<IValidateOptions<T>> validators, out T settings, out IReadOnlyList<string> failures)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(validators);
        var services = new ServiceCollection();
        services.AddOptions<T>().Configure(bind);
        foreach (var validator in validators)
        {
            services.AddSingleton(validator);
        }

        using var provider = services.BuildServiceProvider();
        try
        {
            settings = provider.GetRequiredService<IOptions<T>>().Value;
            failures = [];
            return true;
        }
        catch (OptionsValidationException ex)
        {
            settings = null!;
            failures = [.. ex.Failures];
            return false;
        }
    }

    /// <summary>A validator from a function that gives each failure's message.</summary>
    public static IValidateOptions<T> Validator<T>(Func<T, IEnumerable<string>> failures)
        where T : class => new DelegateValidator<T>(failures);

    private sealed class DelegateValidator<T>(Func<T, IEnumerable<string>> failures) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options) =>
            failures(options).ToList() is { Count: > 0 } found ? ValidateOptionsResult.Fail(found) : ValidateOptionsResult.Success;
    }
}

/// <summary>
/// The configuration a host runs, as options: what only a host reads of it, validated at start. The configuration
/// check has reported every error at its file:line already; what is left are the engine blocks' options (read when
/// the engines are built), whose failure names the block's ossec.conf line, and which stop the host (exit 3).
/// </summary>
internal sealed class HostConfiguration
{
    public OssecConfig? Config { get; set; }

    /// <summary>Options of the engine blocks that cannot be read: one failure, the first such block's.</summary>
    public static IValidateOptions<HostConfiguration> Engines { get; } = HostSettings.Validator<HostConfiguration>(settings =>
        settings.Config is { } config && Intel.Engines.EngineSettings.Unreadable(config) is { } problem ? [problem] : []);
}
