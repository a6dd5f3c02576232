using System.Text.Json;
using Vigil.Core.Configuration;
using Vigil.Intel.Selection;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Intel.Tests.Selection;

public sealed class AlertSelectorTests
{
    private static readonly string s_alert = Alerts.Fim(EmulatedFile.Synthetic("sel", 0), ruleId: "554", level: 5);

    private static bool Matches(IntegrationOptions options, string? alert = null)
    {
        using var document = JsonDocument.Parse(alert ?? s_alert);
        return new AlertSelector(options).IsMatch(document.RootElement);
    }

    [Fact]
    public void IsMatch_NothingConfigured_MatchesEveryAlertWithARule()
    {
        Assert.True(Matches(new IntegrationOptions { Name = "virustotal" }));
        Assert.False(Matches(new IntegrationOptions { Name = "virustotal" }, "{\"id\":\"1\"}"));
    }

    [Theory]
    [InlineData("syscheck", true)]
    [InlineData("syscheck_file", true)]
    [InlineData("sysche", false)]
    [InlineData("pci_dss_11.5", false)]
    public void IsMatch_Group_ComparesEntriesExactly(string group, bool expected)
    {
        Assert.Equal(expected, Matches(new IntegrationOptions { Name = "virustotal", Groups = [group] }));
    }

    [Theory]
    [InlineData(5, true)]
    [InlineData(6, false)]
    public void IsMatch_Level_IsAMinimum(int level, bool expected)
    {
        Assert.Equal(expected, Matches(new IntegrationOptions { Name = "virustotal", Level = level }));
    }

    [Theory]
    [InlineData("550, 554", true)]
    [InlineData("550", false)]
    public void IsMatch_RuleId_IsInTheList(string ids, bool expected)
    {
        Assert.Equal(expected, Matches(new IntegrationOptions { Name = "virustotal", RuleIds = ids.Split(',') }));
    }

    [Theory]
    [InlineData("syscheck", true)]
    [InlineData("^sys", true)]
    [InlineData("check$", true)]
    [InlineData("^check", false)]
    [InlineData("SYSCHECK", true)]
    [InlineData("ossec|syscheck", true)]
    [InlineData("!syscheck", false)]
    [InlineData("^syscheck$", true)]
    public void IsMatch_EventLocation_IsOsMatch(string pattern, bool expected)
    {
        Assert.Equal(expected, Matches(new IntegrationOptions { Name = "virustotal", EventLocation = pattern }));
    }

    [Fact]
    public void IsMatch_AllConfigured_AreAnded()
    {
        var options = new IntegrationOptions { Name = "virustotal", Groups = ["syscheck"], Level = 3, RuleIds = ["554"], EventLocation = "syscheck" };
        Assert.True(Matches(options));
        Assert.False(Matches(options with { RuleIds = ["550"] }));
    }

    [Fact]
    public void TryParse_DeletedEvent_IsNotLookedUp()
    {
        using var document = JsonDocument.Parse(s_alert.Replace("\"event\":\"added\"", "\"event\":\"deleted\"", StringComparison.Ordinal));
        Assert.Null(FileAlert.TryParse(document.RootElement));
    }
}
