namespace Vigil.Intel;

/// <summary>What a host hands selected alerts to: a VirusTotal/hash-list integration or a detection engine.</summary>
internal interface IFileIntelligence : IAsyncDisposable
{
    /// <summary>Whether this integration takes the alert (its rule ids, groups, level and location).</summary>
    public bool Selects(string alertJson);

    /// <summary>Takes one alert; <paramref name="key"/> names it for a host that may hand it again after a crash.</summary>
    public ValueTask OnAlertAsync(string alertJson, string? key, CancellationToken cancellationToken);
}
