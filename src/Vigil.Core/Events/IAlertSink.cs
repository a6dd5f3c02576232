namespace Vigil.Core.Events;

/// <summary>Receives every alert after it has been written, as the exact line <c>alerts.json</c> holds.</summary>
public interface IAlertSink
{
    /// <summary>Called once per written alert, in order.</summary>
    public ValueTask OnAlertAsync(string alertJson, CancellationToken cancellationToken);
}
