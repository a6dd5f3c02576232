namespace Vigil.Core.Tests.Configuration;

public sealed class ClientReaderTests
{
    [Fact]
    public void Load_ServerBlocks_AreTheManagersInFileOrder_PortDefaulting1514()
    {
        var result = ConfigTest.LoadBlocks("""
            <client>
              <server>
                <address>mgr-a.example</address>
                <port>1600</port>
                <protocol>tcp</protocol>
                <max_retries>5</max_retries>
                <retry_interval>10</retry_interval>
              </server>
              <server>
                <address>10.0.0.2</address>
              </server>
              <server><address>fd00::3</address><port>1514</port></server>
              <config-profile>debian, debian12</config-profile>
              <notify_time>10</notify_time>
              <time-reconnect>60</time-reconnect>
              <auto_restart>yes</auto_restart>
              <crypto_method>aes</crypto_method>
            </client>
            """);

        Assert.Empty(result.Diagnostics);
        var servers = result.Config.Client.Servers;
        Assert.Equal([("mgr-a.example", 1600), ("10.0.0.2", 1514), ("fd00::3", 1514)], servers.Select(s => (s.Address, s.Port)));
        Assert.Equal("mgr-a.example:1600,10.0.0.2:1514,[fd00::3]:1514", result.Config.Client.ManagerList);
        Assert.Equal("ossec.conf:3", servers[0].Source.ToString());
    }

    [Fact]
    public void Load_NoClientBlock_NoServers()
    {
        var result = ConfigTest.LoadBlocks("<global></global>");

        Assert.Empty(result.Config.Client.Servers);
        Assert.Equal("", result.Config.Client.ManagerList);
    }

    [Theory]
    [InlineData("<server><address>mgr</address><port>70000</port></server>", "ossec.conf:3: error: <port> must be from 1 to 65535, got '70000'")]
    [InlineData("<server><address>mgr</address><port>0</port></server>", "ossec.conf:3: error: <port> must be from 1 to 65535, got '0'")]
    [InlineData("<server><address>mgr</address><port>15x4</port></server>", "ossec.conf:3: error: <port> must be a whole number, got '15x4'")]
    [InlineData("<server><address> </address></server>", "ossec.conf:3: error: <address> of <server> must not be empty")]
    [InlineData("<server><port>1514</port></server>", "ossec.conf:3: error: <server> needs an <address>")]
    [InlineData("<server><address>a,b</address></server>", "ossec.conf:3: error: <address> of <server> must be one host name or IP address, got 'a,b'")]
    [InlineData("<server><address>mgr</address><protocol>sctp</protocol></server>", "ossec.conf:3: error: <protocol> must be tcp or udp, got 'sctp'")]
    [InlineData("<server><address>mgr</address><weight>2</weight></server>", "ossec.conf:3: error: <weight> is not a valid option of <server>")]
    [InlineData("<server-ip>10.0.0.1</server-ip>", "ossec.conf:3: error: <server-ip> was replaced in Wazuh 3.0")]
    [InlineData("<port>1514</port>", "ossec.conf:3: error: <port> goes inside a <server> block of <client>")]
    [InlineData("<managers>x</managers>", "ossec.conf:3: error: <managers> is not a valid option of <client>")]
    public void Load_BadServer_IsOneErrorNamingFileAndLine_AndTheServerIsLeftOut(string inner, string expected)
    {
        var result = ConfigTest.LoadBlocks($"<client>\n{inner}\n<server><address>good</address></server></client>");

        Assert.StartsWith(expected, result.SingleError(), StringComparison.Ordinal);
        Assert.Equal("good:1514", result.Config.Client.ManagerList);
    }

    [Fact]
    public void Load_UdpProtocol_IsAWarning_TcpIsUsed()
    {
        var result = ConfigTest.LoadBlocks("<client>\n<server><address>mgr</address><protocol>udp</protocol></server></client>");

        Assert.Empty(result.Errors());
        Assert.StartsWith("ossec.conf:3: warning: <protocol> udp: Vigil's agents connect over TCP", Assert.Single(result.Warnings()), StringComparison.Ordinal);
        Assert.Equal("mgr:1514", result.Config.Client.ManagerList);
    }

    [Fact]
    public void Load_TwoClientBlocks_ServersOfBothInOrder()
    {
        var result = ConfigTest.LoadBlocks("<client><server><address>a</address></server></client>\n<client><server><address>b</address></server></client>");

        Assert.Equal("a:1514,b:1514", result.Config.Client.ManagerList);
    }
}
