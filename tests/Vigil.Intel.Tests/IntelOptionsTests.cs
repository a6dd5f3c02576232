using Vigil.Core;
using Vigil.Core.Configuration;

namespace Vigil.Intel.Tests;

public sealed class IntelOptionsTests
{
    [Fact]
    public void FromIntegration_Options_AreApplied()
    {
        var options = IntelOptions.FromIntegration(new IntegrationOptions
        {
            Name = "virustotal",
            TimeoutSeconds = 20,
            Options = """{"min_positives": 3, "requests_per_minute": 30, "requests_per_day": 1000, "cache_clean_seconds": 60, "base_url": "https://127.0.0.1:8443", "hash_lists": ["/etc/vigil/bad.csv"], "upload": true, "unknown": 1}""",
        });

        Assert.Equal(3, options.MinPositives);
        Assert.Equal(30, options.RequestsPerMinute);
        Assert.Equal(1000, options.RequestsPerDay);
        Assert.Equal(TimeSpan.FromMinutes(1), options.CleanLifetime);
        Assert.Equal(TimeSpan.FromSeconds(20), options.Timeout);
        Assert.Equal(new Uri("https://127.0.0.1:8443"), options.BaseUrl);
        Assert.Equal(["/etc/vigil/bad.csv"], options.HashLists);
        Assert.True(options.Upload);
    }

    [Fact]
    public void FromIntegration_Defaults_AreWazuhsAndThePublicQuota()
    {
        var options = IntelOptions.FromIntegration(new IntegrationOptions { Name = "virustotal" });

        Assert.Equal(1, options.MinPositives);
        Assert.Equal(4, options.RequestsPerMinute);
        Assert.Equal(500, options.RequestsPerDay);
        Assert.Equal(TimeSpan.FromDays(30), options.MaliciousLifetime);
        Assert.Equal(TimeSpan.FromDays(1), options.CleanLifetime);
        Assert.Equal(TimeSpan.FromHours(1), options.UnknownLifetime);
        Assert.False(options.Upload);
    }

    [Fact]
    public void WithJson_BadValues_ListsEveryError()
    {
        var ex = Assert.Throws<VigilException>(() => new IntelOptions().WithJson("""{"min_positives": 0, "base_url": "ftp://x", "upload": "yes"}""", "ossec.conf:12"));

        Assert.StartsWith("ossec.conf:12: <options>: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("min_positives", ex.Message, StringComparison.Ordinal);
        Assert.Contains("base_url", ex.Message, StringComparison.Ordinal);
        Assert.Contains("upload", ex.Message, StringComparison.Ordinal);
    }
}
