using Vigil.Agent;
using Vigil.Hosting;

namespace Vigil.Manager.Tests;

/// <summary>The hosts' command-line settings, bound and validated through the options system: each failure in the words the commands print.</summary>
public sealed class HostSettingsTests
{
    [Fact]
    public void Manager_ValidSettings_Bind()
    {
        Assert.True(HostSettings.TryBind<ManagerSettings>(s => s.Listen = "::1", [ManagerSettings.Validator], out var settings, out var failures));
        Assert.Empty(failures);
        Assert.Equal(System.Net.IPAddress.IPv6Loopback, settings.ListenAddress);
    }

    [Fact]
    public void Manager_BadListenAndDatabaseWithoutCaPassword_GivesBothFailures()
    {
        var bound = HostSettings.TryBind<ManagerSettings>(
            s =>
            {
                s.Listen = "not-an-address";
                s.Database = "postgres://vigil@127.0.0.1:5432/vigil";
            },
            [ManagerSettings.Validator],
            out _,
            out var failures);

        Assert.False(bound);
        Assert.Equal(
            ["--listen must be an IP address", "--database needs the CA password: --ca-password-file (<ca_password_file> of <database>) or $VIGIL_CA_PASSWORD"],
            failures);
    }

    [Theory]
    [InlineData("localhost", 0, null)]
    [InlineData("10.0.0.1", 65535, null)]
    [InlineData("web.example", 5601, "--web-address web.example: expected an IP address")]
    [InlineData("127.0.0.1", 65536, "--web-port 65536: expected 0 to 65535")]
    [InlineData("127.0.0.1", -1, "--web-port -1: expected 0 to 65535")]
    public void Web_Settings_AreCheckedAtStart(string address, int port, string? failure)
    {
        var bound = HostSettings.TryBind<WebSettings>(
            s =>
            {
                s.Address = address;
                s.Port = port;
            },
            [WebSettings.Validator],
            out var settings,
            out var failures);

        Assert.Equal(failure is null, bound);
        Assert.Equal(failure is null ? [] : [failure], failures);
        if (bound)
        {
            var options = settings.ToOptions("/var/lib/vigil");
            Assert.Equal((address, port, "/var/lib/vigil"), (options!.ListenAddress, options.Port, options.DataDirectory));
        }
    }

    [Fact]
    public void Web_Off_IsNoServerWhateverTheRest()
    {
        Assert.True(HostSettings.TryBind<WebSettings>(
            s =>
            {
                s.Off = true;
                s.Port = 70000;
            },
            [WebSettings.Validator],
            out var settings,
            out _));
        Assert.Null(settings.ToOptions("/var/lib/vigil"));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("manager.example:1514", null)]
    [InlineData("a:1514,b:1515", null)]
    [InlineData("a:1514,b", "--manager: 'b' is not HOST:PORT")]
    [InlineData("a:0", "--manager: 'a:0' is not HOST:PORT")]
    [InlineData(":1514", "--manager: ':1514' is not HOST:PORT")]
    public void Agent_Managers_AreHostPort(string? managers, string? failure)
    {
        var bound = HostSettings.TryBind<AgentSettings>(s => s.Managers = managers, [AgentSettings.Validator], out _, out var failures);

        Assert.Equal(failure is null, bound);
        Assert.Equal(failure is null ? [] : [failure], failures);
    }
}
