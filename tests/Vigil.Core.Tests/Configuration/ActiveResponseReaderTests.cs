using Vigil.Core.Configuration;

namespace Vigil.Core.Tests.Configuration;

public sealed class ActiveResponseReaderTests
{
    private const string RemoveThreat = "<command><name>remove-threat</name><executable>remove-threat</executable></command>";

    [Fact]
    public void Load_Command_ReadsEveryOption()
    {
        var result = ConfigTest.LoadBlocks("""
            <command>
              <name>firewall-drop</name>
              <executable>firewall-drop</executable>
              <timeout_allowed>yes</timeout_allowed>
              <extra_args>-a  -b</extra_args>
            </command>
            """);

        Assert.Empty(result.Diagnostics);
        var command = Assert.Single(result.Config.Commands);
        Assert.Equal("firewall-drop", command.Name);
        Assert.Equal("firewall-drop", command.Executable);
        Assert.True(command.TimeoutAllowed);
        Assert.Equal(["-a", "-b"], command.ExtraArgs);
        Assert.Equal(new SourceLocation("ossec.conf", 2), command.Source);
    }

    [Fact]
    public void Load_CommandExpect_WarnsDeprecated()
    {
        var result = ConfigTest.LoadBlocks("<command><name>c</name><executable>c.sh</executable><expect>srcip</expect></command>");

        Assert.Equal("ossec.conf:2: warning: <expect> is deprecated since Wazuh 4.2 and ignored", Assert.Single(result.Warnings()));
        Assert.False(Assert.Single(result.Config.Commands).TimeoutAllowed);
    }

    [Theory]
    [InlineData("<name>!x</name><executable>x</executable>", "<name> of a <command> must be a non-empty name not starting with '!', got '!x'")]
    [InlineData("<name>x</name><executable>/bin/rm</executable>", "<executable> must be a bare file name inside active-response/bin (no '/', no '..', not starting with '!'), got '/bin/rm'")]
    [InlineData("<name>x</name><executable>..</executable>", "<executable> must be a bare file name")]
    [InlineData("<name>x</name><executable>!x</executable>", "<executable> must be a bare file name")]
    [InlineData("<name>x</name><executable>x</executable><timeout_allowed>1</timeout_allowed>", "<timeout_allowed> must be 'yes' or 'no', got '1'")]
    [InlineData("<name>x</name><executable>x</executable><timeout>5</timeout>", "<timeout> is not a valid option of <command>; allowed: name, executable,")]
    [InlineData("<executable>x</executable>", "<command> needs a <name>")]
    [InlineData("<name>x</name>", "<command> needs an <executable>")]
    public void Load_InvalidCommand_IsAnError(string elements, string message)
    {
        var result = ConfigTest.LoadBlocks($"<command>{elements}</command>");

        Assert.StartsWith($"ossec.conf:2: error: {message}", result.SingleError());
        Assert.Empty(result.Config.Commands);
    }

    [Fact]
    public void Load_ActiveResponse_ReadsEveryOption()
    {
        var result = ConfigTest.LoadBlocks("""
            <command><name>firewall-drop</name><executable>firewall-drop</executable><timeout_allowed>yes</timeout_allowed></command>
            <active-response>
              <disabled>no</disabled>
              <command>firewall-drop</command>
              <location>defined-agent</location>
              <agent_id>001</agent_id>
              <rules_id>5763, 5712</rules_id>
              <rules_group>authentication_failed|authentication_failures</rules_group>
              <level>10</level>
              <timeout>600</timeout>
              <repeated_offenders>30,60,120</repeated_offenders>
            </active-response>
            """);

        Assert.Empty(result.Diagnostics);
        var response = Assert.Single(result.Config.ActiveResponses);
        Assert.Equal("firewall-drop", response.Command);
        Assert.Equal(ActiveResponseLocations.DefinedAgent, response.Location);
        Assert.Equal("001", response.AgentId);
        Assert.Equal(["5763", "5712"], response.RulesId);
        Assert.Equal("authentication_failed|authentication_failures", response.RulesGroup);
        Assert.Equal(10, response.Level);
        Assert.Equal(600, response.TimeoutSeconds);
        Assert.Equal([30, 60, 120], response.RepeatedOffendersMinutes);
        Assert.Equal("firewall-drop600", response.WireName);
        Assert.Equal(new SourceLocation("ossec.conf", 3), response.Source);
    }

    [Fact]
    public void Load_CommandDefinedAfterTheActiveResponse_IsResolved()
    {
        var result = ConfigTest.Load($"""
            <ossec_config>
              <active-response><command>remove-threat</command><location>local</location><rules_id>87105</rules_id></active-response>
            </ossec_config>
            <ossec_config>
              {RemoveThreat}
            </ossec_config>
            """);

        Assert.Empty(result.Diagnostics);
        Assert.Single(result.Config.ActiveResponses);
    }

    [Fact]
    public void Load_UnknownCommand_IsAnErrorListingTheDefinedOnes()
    {
        var result = ConfigTest.LoadBlocks($"""
            {RemoveThreat}
            <active-response>
              <command>remove-threats</command>
              <location>local</location>
            </active-response>
            """);

        Assert.Equal("ossec.conf:4: error: <command> 'remove-threats' names no <command> block (defined: remove-threat)", result.SingleError());
        Assert.Empty(result.Config.ActiveResponses);
    }

    [Fact]
    public void Load_InvalidCommandBlock_DoesNotAlsoFailItsActiveResponse()
    {
        var result = ConfigTest.LoadBlocks("""
            <command><name>x</name><executable>/bin/x</executable></command>
            <active-response><command>x</command><location>local</location></active-response>
            """);

        Assert.Contains("<executable> must be a bare file name", result.SingleError());
    }

    [Fact]
    public void Load_DisabledBlock_IsLeftOutButDoesNotDisableTheOthers()
    {
        var result = ConfigTest.LoadBlocks($"""
            {RemoveThreat}
            <active-response><command>remove-threat</command><location>local</location><rules_id>1</rules_id></active-response>
            <active-response><disabled>yes</disabled><command>remove-threat</command><location>local</location><rules_id>2</rules_id></active-response>
            <active-response><command>remove-threat</command><location>server</location><rules_id>3</rules_id></active-response>
            """);

        Assert.Empty(result.Diagnostics);
        Assert.Equal(["1", "3"], result.Config.ActiveResponses.Select(r => r.RulesId[0]));
    }

    [Fact]
    public void Load_TimeoutWithoutTimeoutAllowed_IsResetWithAWarning()
    {
        var result = ConfigTest.LoadBlocks($"""
            {RemoveThreat}
            <active-response>
              <command>remove-threat</command>
              <location>local</location>
              <timeout>60</timeout>
            </active-response>
            """);

        Assert.Equal(
            "ossec.conf:6: warning: <timeout> is reset to 0 because <command> 'remove-threat' has <timeout_allowed>no</timeout_allowed>",
            Assert.Single(result.Warnings()));
        Assert.Equal("remove-threat0", Assert.Single(result.Config.ActiveResponses).WireName);
    }

    [Theory]
    [InlineData("local", ActiveResponseLocations.Local)]
    [InlineData("LOCAL", ActiveResponseLocations.Local)]
    [InlineData("server", ActiveResponseLocations.Server)]
    [InlineData("AS", ActiveResponseLocations.Server)]
    [InlineData("analysisd", ActiveResponseLocations.Server)]
    [InlineData("analysis-server", ActiveResponseLocations.Server)]
    [InlineData("all", ActiveResponseLocations.All)]
    [InlineData("any", ActiveResponseLocations.All)]
    [InlineData("local,server", ActiveResponseLocations.Local | ActiveResponseLocations.Server)]
    [InlineData("defined-agent|all", ActiveResponseLocations.DefinedAgent | ActiveResponseLocations.All)]
    public void Load_Location_ParsedAsWazuhDoes(string location, ActiveResponseLocations expected)
    {
        var result = ConfigTest.LoadBlocks($"""
            {RemoveThreat}
            <active-response><command>remove-threat</command><location>{location}</location><agent_id>002</agent_id></active-response>
            """);

        Assert.Empty(result.Diagnostics);
        Assert.Equal(expected, Assert.Single(result.Config.ActiveResponses).Location);
    }

    [Theory]
    [InlineData("<command>remove-threat</command><location>nowhere</location>", "<location> must be local, server (or AS, analysisd, analysis-server), defined-agent or all (or any), got 'nowhere'")]
    [InlineData("<command>remove-threat</command>", "<active-response> needs a <location>: local, server, defined-agent or all")]
    [InlineData("<location>local</location><rules_id>1</rules_id>", "<active-response> needs a <command> naming a <command> block")]
    [InlineData("<command>remove-threat</command><location>defined-agent</location>", "<location> defined-agent needs an <agent_id>")]
    [InlineData("<command>remove-threat</command><location>defined-agent</location><agent_id>000</agent_id>", "<agent_id> '000' is the manager; use <location>server</location> to run there")]
    [InlineData("<command>remove-threat</command><location>defined-agent</location><agent_id>0</agent_id>", "<agent_id> '0' is the manager")]
    [InlineData("<command>remove-threat</command><location>defined-agent</location><agent_id>web1</agent_id>", "<agent_id> must be an agent number such as 001, got 'web1'")]
    [InlineData("<command>remove-threat</command><location>local</location><level>21</level>", "<level> must be from 0 to 20, got '21'")]
    [InlineData("<command>remove-threat</command><location>local</location><timeout>soon</timeout>", "<timeout> must be a whole number of seconds, got 'soon'")]
    [InlineData("<command>remove-threat</command><location>local</location><rules_id>87105;1</rules_id>", "<rules_id> must be a comma-separated list of rule ids such as 87105, got '87105;1'")]
    [InlineData("<command>remove-threat</command><location>local</location><repeated_offenders>1,2,3,4,5,6</repeated_offenders>", "<repeated_offenders> must be up to 5 comma-separated whole numbers of minutes")]
    [InlineData("<command>remove-threat</command><location>local</location><repeated_offenders>10m</repeated_offenders>", "<repeated_offenders> must be up to 5 comma-separated whole numbers of minutes")]
    [InlineData("<command>remove-threat</command><location>local</location><disabled>off</disabled>", "<disabled> must be 'yes' or 'no', got 'off'")]
    [InlineData("<command>remove-threat</command><location>local</location><rule_id>1</rule_id>", "<rule_id> is not a valid option of <active-response>; allowed: command, location,")]
    public void Load_InvalidActiveResponse_IsAnError(string elements, string message)
    {
        var result = ConfigTest.LoadBlocks($"{RemoveThreat}\n<active-response>{elements}</active-response>");

        Assert.StartsWith($"ossec.conf:3: error: {message}", result.SingleError());
        Assert.Empty(result.Config.ActiveResponses);
    }

    [Fact]
    public void Load_AgentSideBlock_IsAcceptedWithoutACommand()
    {
        var result = ConfigTest.LoadBlocks("""
            <active-response>
              <disabled>no</disabled>
              <ca_store>etc/wpk_root.pem</ca_store>
              <ca_verification>yes</ca_verification>
              <repeated_offenders>30,60</repeated_offenders>
            </active-response>
            """);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.Config.ActiveResponses);
    }

    [Fact]
    public void Load_DuplicateCommandName_KeepsTheFirstWithAWarning()
    {
        var result = ConfigTest.LoadBlocks("""
            <command><name>c</name><executable>first</executable></command>
            <command><name>c</name><executable>second</executable></command>
            """);

        Assert.Equal("ossec.conf:3: warning: <command> 'c' is already defined at ossec.conf:2; that first definition is used", Assert.Single(result.Warnings()));
        Assert.Equal("first", Assert.Single(result.Config.Commands).Executable);
    }
}
