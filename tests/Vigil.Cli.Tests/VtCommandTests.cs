namespace Vigil.Cli.Tests;

public sealed class VtCommandTests
{
    [Fact]
    public async Task Check_AcceptedKey_Exit0WithQuotaAndNoKeyInOutput()
    {
        await using var h = await IntelCommandHarness.StartAsync(", \"requests_per_minute\": 4, \"requests_per_day\": 500");

        var (code, output, error) = await h.RunAsync("vt", "check");

        Assert.Equal(0, code);
        Assert.Contains("the API key is accepted by https://127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Contains("3 of 4 this minute, 499 of 500 today (UTC)", output, StringComparison.Ordinal);
        Assert.DoesNotContain(IntelCommandHarness.Key, output + error, StringComparison.Ordinal);
        var request = h.Emulator!.Requests.Single();
        Assert.Equal(IntelCommandHarness.Key, request.ApiKey);
        Assert.DoesNotContain(IntelCommandHarness.Key, request.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_WrongKey_Exit1AndNoKeyInOutput()
    {
        await using var h = await IntelCommandHarness.StartAsync();
        h.WriteConfig("wrong-" + IntelCommandHarness.Key, h.Emulator!.BaseUrl.ToString());

        var (code, output, error) = await h.RunAsync("vt", "check");

        Assert.Equal(1, code);
        Assert.Contains("the API key is rejected by https://127.0.0.1:", error, StringComparison.Ordinal);
        Assert.Contains("401 WrongCredentialsError", error, StringComparison.Ordinal);
        Assert.DoesNotContain(IntelCommandHarness.Key, output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_Unreachable_Exit4()
    {
        await using var h = await IntelCommandHarness.StartAsync();
        h.WriteConfig(IntelCommandHarness.Key, "https://127.0.0.1:1/");

        var (code, output, error) = await h.RunAsync("vt", "check");

        Assert.Equal(4, code);
        Assert.Contains("VirusTotal is unreachable: https://127.0.0.1:1", error, StringComparison.Ordinal);
        Assert.DoesNotContain(IntelCommandHarness.Key, output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_QuotaSpent_KeyAcceptedExit0()
    {
        await using var h = await IntelCommandHarness.StartAsync();
        h.Emulator!.EnqueueFault(Vigil.Tests.Common.VirusTotal.EmulatorFault.Quota429);

        var (code, output, _) = await h.RunAsync("vt", "check");

        Assert.Equal(0, code);
        Assert.Contains("accepted", output, StringComparison.Ordinal);
        Assert.Contains("quota is spent", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_NoKey_Exit3()
    {
        await using var h = await IntelCommandHarness.StartWithoutKeyAsync();

        var (code, _, error) = await h.RunAsync("vt", "check");

        Assert.Equal(3, code);
        Assert.Contains("no API key", error, StringComparison.Ordinal);
    }
}
