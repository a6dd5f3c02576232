using Vigil.Core.Configuration;

namespace Vigil.Core.Tests.Configuration;

public sealed class SyscheckReaderTests
{
    private static ConfigLoadResult LoadSyscheck(string options, IReadOnlyDictionary<string, string>? environment = null) =>
        ConfigTest.LoadBlocks($"<syscheck>\n{options}\n</syscheck>", environment);

    [Fact]
    public void Load_NoSyscheckBlock_IsDisabledWithWazuhDefaults()
    {
        var syscheck = ConfigTest.LoadBlocks("<alerts/>").Config.Syscheck;

        Assert.True(syscheck.Disabled);
        Assert.Empty(syscheck.Directories);
        Assert.Equal(43200, syscheck.FrequencySeconds);
        Assert.True(syscheck.ScanOnStart);
        Assert.True(syscheck.SkipNfs && syscheck.SkipDev && syscheck.SkipSys && syscheck.SkipProc);
        Assert.Equal(1_000_000, syscheck.FileLimit);
        Assert.Equal("disk", syscheck.Database);
        Assert.Equal(50, syscheck.MaxEps);
        Assert.Equal(0, syscheck.MaxFilesPerSecond);
        Assert.Equal(10, syscheck.ProcessPriority);
        Assert.Equal(1L << 30, syscheck.DiffDiskQuotaBytes);
        Assert.Equal(50L << 20, syscheck.DiffFileSizeLimitBytes);
        Assert.True(syscheck.SynchronizationEnabled);
        Assert.Equal(300, syscheck.SynchronizationIntervalSeconds);
        Assert.Equal(3600, syscheck.SynchronizationMaxIntervalSeconds);
        Assert.Equal(30, syscheck.SynchronizationResponseTimeoutSeconds);
        Assert.Equal(16384, syscheck.SynchronizationQueueSize);
        Assert.Equal(10, syscheck.SynchronizationMaxEps);
        Assert.Null(syscheck.PrefilterCommand);
    }

    [Fact]
    public void Load_BlockWithoutDisabled_IsEnabled()
    {
        var result = LoadSyscheck("<directories>/etc</directories>");

        Assert.Empty(result.Diagnostics);
        Assert.False(result.Config.Syscheck.Disabled);
    }

    [Fact]
    public void Load_EnabledWithoutDirectories_Warns()
    {
        var result = LoadSyscheck("<disabled>no</disabled>");

        Assert.Equal("ossec.conf:2: warning: <syscheck> is enabled but monitors no directory; add a <directories> element", Assert.Single(result.Warnings()));
    }

    [Fact]
    public void Load_DefaultDirectory_HasWazuhDefaults()
    {
        var directory = Assert.Single(LoadSyscheck("<directories>/etc/</directories>").Config.Syscheck.Directories);

        Assert.Equal("/etc", directory.Path);
        Assert.Equal(FimChecks.All, directory.Checks);
        Assert.False(directory.Realtime);
        Assert.False(directory.Whodata);
        Assert.Equal("scheduled", directory.Mode);
        Assert.False(directory.ReportChanges);
        Assert.Null(directory.Restrict);
        Assert.Equal(256, directory.RecursionLevel);
        Assert.Empty(directory.Tags);
        Assert.False(directory.FollowSymbolicLink);
        Assert.Null(directory.DiffSizeLimitBytes);
        Assert.Equal(new SourceLocation("ossec.conf", 3), directory.Source);
    }

    [Fact]
    public void Load_EveryOption_IsRead()
    {
        var result = LoadSyscheck("""
            <disabled>no</disabled>
            <frequency>3600</frequency>
            <scan_on_start>no</scan_on_start>
            <directories>/etc</directories>
            <ignore>/etc/mtab</ignore>
            <ignore type="sregex">.log$|.swp$</ignore>
            <nodiff>/etc/ssl/private.key</nodiff>
            <skip_nfs>no</skip_nfs>
            <skip_dev>no</skip_dev>
            <skip_sys>no</skip_sys>
            <skip_proc>no</skip_proc>
            <file_limit><enabled>yes</enabled><entries>5000</entries></file_limit>
            <database>memory</database>
            <max_eps>0</max_eps>
            <max_files_per_second>200</max_files_per_second>
            <process_priority>-5</process_priority>
            <synchronization>
              <enabled>no</enabled>
              <interval>10m</interval>
              <max_interval>2h</max_interval>
              <response_timeout>60</response_timeout>
              <queue_size>1000</queue_size>
              <max_eps>20</max_eps>
              <thread_pool>2</thread_pool>
            </synchronization>
            <diff>
              <disk_quota><enabled>yes</enabled><limit>2GB</limit></disk_quota>
              <file_size><enabled>yes</enabled><limit>10MB</limit></file_size>
              <nodiff type="sregex">\.key$</nodiff>
            </diff>
            <whodata>
              <audit_key>k1,k2</audit_key>
              <startup_healthcheck>yes</startup_healthcheck>
              <restart_audit>yes</restart_audit>
              <provider>ebpf</provider>
              <queue_size>16384</queue_size>
            </whodata>
            <prefilter_cmd>/usr/sbin/prelink -y</prefilter_cmd>
            <allow_remote_prefilter_cmd>yes</allow_remote_prefilter_cmd>
            """);

        Assert.Empty(result.Diagnostics);
        var s = result.Config.Syscheck;
        Assert.False(s.Disabled);
        Assert.Equal(3600, s.FrequencySeconds);
        Assert.False(s.ScanOnStart);
        Assert.Equal([new PathFilter("/etc/mtab", false), new PathFilter(".log$|.swp$", true)], s.Ignore.Select(f => f with { Source = SourceLocation.None }));
        Assert.Equal([new PathFilter("/etc/ssl/private.key", false), new PathFilter(@"\.key$", true)], s.NoDiff.Select(f => f with { Source = SourceLocation.None }));
        Assert.False(s.SkipNfs || s.SkipDev || s.SkipSys || s.SkipProc);
        Assert.Equal(5000, s.FileLimit);
        Assert.Equal("memory", s.Database);
        Assert.Equal(0, s.MaxEps);
        Assert.Equal(200, s.MaxFilesPerSecond);
        Assert.Equal(-5, s.ProcessPriority);
        Assert.False(s.SynchronizationEnabled);
        Assert.Equal(600, s.SynchronizationIntervalSeconds);
        Assert.Equal(7200, s.SynchronizationMaxIntervalSeconds);
        Assert.Equal(60, s.SynchronizationResponseTimeoutSeconds);
        Assert.Equal(1000, s.SynchronizationQueueSize);
        Assert.Equal(20, s.SynchronizationMaxEps);
        Assert.Equal(2L << 30, s.DiffDiskQuotaBytes);
        Assert.Equal(10L << 20, s.DiffFileSizeLimitBytes);
        Assert.Equal("/usr/sbin/prelink -y", s.PrefilterCommand);
        Assert.True(s.AllowRemotePrefilterCommand);
    }

    [Fact]
    public void Load_DisabledLimits_MeanUnlimited()
    {
        var s = LoadSyscheck("""
            <file_limit><enabled>no</enabled></file_limit>
            <diff><disk_quota><enabled>no</enabled></disk_quota><file_size><enabled>no</enabled></file_size></diff>
            """).Config.Syscheck;

        Assert.Equal(0, s.FileLimit);
        Assert.Equal(0, s.DiffDiskQuotaBytes);
        Assert.Equal(0, s.DiffFileSizeLimitBytes);
    }

    [Fact]
    public void Load_ScanTimeOrDay_ForcesWeeklyFrequency()
    {
        var s = LoadSyscheck("<frequency>60</frequency><scan_time>10:30pm</scan_time><scan_day>Saturday</scan_day>").Config.Syscheck;

        Assert.Equal(new TimeOnly(22, 30), s.ScanTime);
        Assert.Equal(DayOfWeek.Saturday, s.ScanDay);
        Assert.Equal(604800, s.FrequencySeconds);
    }

    [Theory]
    [InlineData("22:00", 22, 0)]
    [InlineData("10pm", 22, 0)]
    [InlineData("12am", 0, 0)]
    [InlineData("7:05 AM", 7, 5)]
    public void Load_ScanTime_AcceptsWazuhForms(string value, int hour, int minute)
    {
        var result = LoadSyscheck($"<scan_time>{value}</scan_time>");

        Assert.False(result.HasErrors);
        Assert.Equal(new TimeOnly(hour, minute), result.Config.Syscheck.ScanTime);
    }

    [Theory]
    [InlineData("<frequency>12h</frequency>", "<frequency> must be a whole number of seconds, got '12h'")]
    [InlineData("<frequency>0</frequency>", "<frequency> must be a positive whole number of seconds, got '0'")]
    [InlineData("<scan_time>25:00</scan_time>", "<scan_time> must be a time of day such as 10pm, 10:30am or 22:00, got '25:00'")]
    [InlineData("<scan_day>someday</scan_day>", "<scan_day> must be one day of the week such as monday or mon, got 'someday'")]
    [InlineData("<scan_on_start>true</scan_on_start>", "<scan_on_start> must be 'yes' or 'no', got 'true'")]
    [InlineData("<database>cloud</database>", "<database> must be 'disk' or 'memory', got 'cloud'")]
    [InlineData("<max_eps>1000001</max_eps>", "<max_eps> must be from 0 to 1000000 events per second, got '1000001'")]
    [InlineData("<process_priority>20</process_priority>", "<process_priority> must be from -20 to 19, got '20'")]
    [InlineData("<process_priority>-21</process_priority>", "<process_priority> must be from -20 to 19, got '-21'")]
    [InlineData("<file_limit><entries>many</entries></file_limit>", "<entries> must be a whole number, got 'many'")]
    [InlineData("<file_limit><size>1</size></file_limit>", "<size> is not a valid option of <file_limit>; allowed: enabled, entries")]
    [InlineData("<diff><file_size><limit>10XB</limit></file_size></diff>", "<limit> must be a size such as 1GB, 50MB or 512KB (a plain number means KB), got '10XB'")]
    [InlineData("<synchronization><interval>often</interval></synchronization>", "<interval> must be a time such as 300, 300s, 5m, 1h, 1d or 1w, got 'often'")]
    [InlineData("<whodata><provider>dtrace</provider></whodata>", "<provider> must be 'audit' or 'ebpf', got 'dtrace'")]
    [InlineData("<ignore type=\"regex\">x</ignore>", "type on <ignore> must be 'sregex', got 'regex'")]
    [InlineData("<ignore>  </ignore>", "<ignore> must hold a path or, with type=\"sregex\", a pattern; got an empty value")]
    [InlineData("<frequncy>60</frequncy>", "<frequncy> is not a valid option of <syscheck>; allowed: disabled, frequency,")]
    public void Load_InvalidOption_ReportsLineElementAndAllowedValues(string option, string message)
    {
        var result = LoadSyscheck($"<directories>/etc</directories>\n{option}");

        Assert.StartsWith($"ossec.conf:4: error: {message}", result.SingleError());
    }

    [Fact]
    public void Load_DirectoryAttributes_AllRead()
    {
        var result = LoadSyscheck("""
            <directories check_all="no" check_sha256sum="yes" check_size="yes" realtime="yes" report_changes="yes"
                         restrict=".php$" recursion_level="3" tags="web, !prod:site" follow_symbolic_link="yes"
                         diff_size_limit="50MB">/var/www,/srv/www</directories>
            """);

        Assert.Empty(result.Diagnostics);
        var directories = result.Config.Syscheck.Directories;
        Assert.Equal(["/var/www", "/srv/www"], directories.Select(d => d.Path));
        var d = directories[0];
        Assert.Equal(FimChecks.Sha256 | FimChecks.Size, d.Checks);
        Assert.True(d.Realtime);
        Assert.True(d.ReportChanges);
        Assert.Equal(".php$", d.Restrict);
        Assert.Equal(3, d.RecursionLevel);
        Assert.Equal(["web", "prodsite"], d.Tags);
        Assert.True(d.FollowSymbolicLink);
        Assert.Equal(50L << 20, d.DiffSizeLimitBytes);
        Assert.Equal(new SourceLocation("ossec.conf", 3), d.Source);
    }

    [Theory]
    [InlineData("check_sum=\"no\"", FimChecks.All & ~FimChecks.Hashes)]
    [InlineData("check_all=\"no\" check_sum=\"yes\"", FimChecks.Hashes)]
    [InlineData("check_md5sum=\"no\" check_sha1sum=\"no\"", FimChecks.All & ~FimChecks.Md5 & ~FimChecks.Sha1)]
    [InlineData("check_all=\"no\" check_owner=\"yes\" check_group=\"yes\" check_perm=\"yes\" check_mtime=\"yes\" check_inode=\"yes\"",
        FimChecks.Owner | FimChecks.Group | FimChecks.Permissions | FimChecks.Mtime | FimChecks.Inode)]
    [InlineData("check_sum=\"yes\" check_all=\"no\"", FimChecks.None)]
    public void Load_CheckAttributes_ApplyInOrder(string attributes, FimChecks expected)
    {
        var directory = Assert.Single(LoadSyscheck($"<directories {attributes}>/etc</directories>").Config.Syscheck.Directories);

        Assert.Equal(expected, directory.Checks);
    }

    [Fact]
    public void Load_WhodataAndRealtime_WhodataWins()
    {
        var directory = Assert.Single(LoadSyscheck("<directories realtime=\"yes\" whodata=\"yes\">/etc</directories>").Config.Syscheck.Directories);

        Assert.True(directory.Whodata);
        Assert.False(directory.Realtime);
        Assert.Equal("whodata", directory.Mode);
    }

    [Fact]
    public void Load_CheckAttrs_WarnsWindowsOnly()
    {
        var result = LoadSyscheck("<directories check_attrs=\"yes\">/etc</directories>");

        Assert.Equal("ossec.conf:3: warning: check_attrs applies to Windows agents only and is ignored", Assert.Single(result.Warnings()));
        Assert.Single(result.Config.Syscheck.Directories);
    }

    [Theory]
    [InlineData("realtime=\"Yes\"", "attribute realtime on <directories> must be 'yes' or 'no' (lower case, as Wazuh requires), got 'Yes'")]
    [InlineData("recursion_level=\"321\"", "attribute recursion_level on <directories> must be from 0 to 320, got '321'")]
    [InlineData("recursion_level=\"deep\"", "attribute recursion_level on <directories> must be a whole number, got 'deep'")]
    [InlineData("diff_size_limit=\"0KB\"", "attribute diff_size_limit on <directories> must be at least 1KB, got '0KB'")]
    [InlineData("diff_size_limit=\"big\"", "attribute diff_size_limit on <directories> must be a size such as 1GB, 50MB or 512KB")]
    [InlineData("check_everything=\"yes\"", "check_everything is not a valid attribute of <directories>; allowed: check_all,")]
    public void Load_InvalidDirectoryAttribute_IsAnErrorAndSkipsTheElement(string attribute, string message)
    {
        var result = LoadSyscheck($"<directories {attribute}>/etc</directories>");

        Assert.StartsWith($"ossec.conf:3: error: {message}", result.SingleError());
        Assert.Empty(result.Config.Syscheck.Directories);
    }

    [Fact]
    public void Load_RelativeDirectory_IsAnError()
    {
        var result = LoadSyscheck("<directories>/etc, var/www</directories>");

        Assert.Equal("ossec.conf:3: error: <directories> paths must be absolute, got 'var/www'", result.SingleError());
        Assert.Equal("/etc", Assert.Single(result.Config.Syscheck.Directories).Path);
    }

    [Fact]
    public void Load_TooManyPaths_IsAnError()
    {
        var paths = string.Join(",", Enumerable.Range(0, 65).Select(i => $"/d{i}"));

        var result = LoadSyscheck($"<directories>{paths}</directories>");

        Assert.Equal("ossec.conf:3: error: <directories> lists 65 paths; at most 64 are allowed per element", result.SingleError());
    }

    [Fact]
    public void Load_EmptyDirectories_IsAnError()
    {
        var result = LoadSyscheck("<directories> </directories>");

        Assert.Equal("ossec.conf:3: error: <directories> must list at least one absolute path", result.SingleError());
    }

    [Fact]
    public void Load_EnvironmentVariables_AreExpanded()
    {
        var result = LoadSyscheck("<directories>$HOME/Downloads,${DATA}</directories>", new Dictionary<string, string>
        {
            ["HOME"] = "/home/ann",
            ["DATA"] = "/srv/data",
        });

        Assert.Empty(result.Diagnostics);
        Assert.Equal(["/home/ann/Downloads", "/srv/data"], result.Config.Syscheck.Directories.Select(d => d.Path));
    }

    [Fact]
    public void Load_UnsetEnvironmentVariable_WarnsAndSkipsThePath()
    {
        var result = LoadSyscheck("<directories>/etc,$NOPE/x</directories>");

        Assert.Contains("environment variable NOPE in '$NOPE/x' is not set", Assert.Single(result.Warnings()));
        Assert.Equal("/etc", Assert.Single(result.Config.Syscheck.Directories).Path);
    }

    [Fact]
    public void Load_Wildcard_WarnsAndSkipsThePath()
    {
        var result = LoadSyscheck("<directories>/etc,/home/*/Downloads</directories>");

        Assert.Equal("ossec.conf:3: warning: Vigil does not expand wildcards; the path '/home/*/Downloads' is not monitored", Assert.Single(result.Warnings()));
        Assert.Equal("/etc", Assert.Single(result.Config.Syscheck.Directories).Path);
    }

    [Fact]
    public void Load_SeveralBlocks_MergeLikeWazuh()
    {
        var result = ConfigTest.Load("""
            <ossec_config>
              <syscheck>
                <disabled>yes</disabled>
                <frequency>100</frequency>
                <directories>/etc,/usr/bin</directories>
                <ignore>/etc/mtab</ignore>
              </syscheck>
            </ossec_config>
            <ossec_config>
              <syscheck>
                <disabled>no</disabled>
                <directories realtime="yes">/root</directories>
                <directories realtime="yes" report_changes="yes">/etc/</directories>
                <ignore>/etc/hosts.deny</ignore>
              </syscheck>
            </ossec_config>
            """);

        Assert.Empty(result.Diagnostics);
        var s = result.Config.Syscheck;
        Assert.False(s.Disabled);
        Assert.Equal(100, s.FrequencySeconds);
        Assert.Equal(["/etc", "/usr/bin", "/root"], s.Directories.Select(d => d.Path));
        Assert.True(s.Directories[0].Realtime && s.Directories[0].ReportChanges);
        Assert.Equal(13, s.Directories[0].Source.Line);
        Assert.Equal(["/etc/mtab", "/etc/hosts.deny"], s.Ignore.Select(f => f.Pattern));
    }

    [Fact]
    public void Load_DeprecatedAndWindowsOptions_WarnAndLoad()
    {
        var result = LoadSyscheck("""
            <directories>/etc</directories>
            <alert_new_files>yes</alert_new_files>
            <auto_ignore frequency="10" timeframe="3600">no</auto_ignore>
            <windows_registry>HKEY_LOCAL_MACHINE\Software</windows_registry>
            """);

        Assert.False(result.HasErrors);
        Assert.Equal(
            [
                "ossec.conf:4: warning: <alert_new_files> is deprecated in Wazuh and ignored",
                "ossec.conf:5: warning: <auto_ignore> is deprecated in Wazuh and ignored",
                "ossec.conf:6: warning: <windows_registry> applies to Windows agents only and is ignored",
            ],
            result.Warnings());
    }

    [Fact]
    public void Load_MaxIntervalBelowInterval_IsRaisedWithAWarning()
    {
        var result = LoadSyscheck("<synchronization><interval>1h</interval><max_interval>10m</max_interval></synchronization>");

        Assert.Contains(result.Warnings(), w => w.Contains("<max_interval> cannot be less than <interval>"));
        Assert.Equal(3600, result.Config.Syscheck.SynchronizationMaxIntervalSeconds);
    }
}
