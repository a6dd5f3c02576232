using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vigil.Core;
using Vigil.Tests.Common;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Dashboard.Tests;

/// <summary>
/// A real `vigil run` serving its API and dashboard, installed in a temp folder: the seed's configuration pointed at
/// a temp watched directory, the checkout's ruleset, `vigil remove-threat` as the active response, and the
/// VirusTotal emulator (which knows EICAR: 66 engines) so rule 87105 fires. An admin password is set through
/// VIGIL_ADMIN_PASSWORD, and a viewer is created through the API.
/// </summary>
public sealed partial class DashboardFixture : IAsyncLifetime
{
    public const string ViewerUserName = "viewer";

    private static readonly TimeSpan s_startup = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _temp = new("vigil-dashboard");
    private VirusTotalEmulator? _virusTotal;
    private VigilProcess? _vigil;

    public DashboardFixture()
    {
        Home = _temp.Combine("home");
        WatchedDirectory = _temp.Combine("watched");
        Directory.CreateDirectory(WatchedDirectory);
    }

    /// <summary>The dashboard's address (the API is under /api).</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public string AdminPassword { get; } = "Admin-" + RandomNumberGenerator.GetHexString(20, lowercase: true);

    public string ViewerPassword { get; } = "Viewer-" + RandomNumberGenerator.GetHexString(20, lowercase: true);

    /// <summary>The directory FIM watches in real time (rules 100200/100201 name it).</summary>
    public string WatchedDirectory { get; }

    public string Home { get; }

    public string DataDirectory => Path.Combine(Home, "data");

    /// <summary>Everything `vigil run` printed so far, for failure messages.</summary>
    public string Output => _vigil?.Output ?? "(vigil run not started)";

    public async Task InitializeAsync()
    {
        _virusTotal = await VirusTotalEmulator.StartAsync();
        _virusTotal.Add(EmulatedFile.For(Eicar.Bytes, malicious: 66, undetected: 2));
        var config = WriteInstall(_virusTotal.BaseUrl, _virusTotal.WriteCertificatePem(_temp.Combine("vt.pem")));
        BaseAddress = await StartAsync(config);
        await CreateViewerAsync();
    }

    /// <summary>
    /// Starts `vigil run` and returns the dashboard's address. This method is the one place that knows how `vigil run`
    /// is asked to serve its dashboard on a free port and how it says where; it assumes:
    /// <list type="bullet">
    /// <item><c>--web-port 0</c> binds the API and dashboard to a free port on 127.0.0.1, plain HTTP;</item>
    /// <item>the first admin's password is taken from <c>VIGIL_ADMIN_PASSWORD</c> (docs/api.md);</item>
    /// <item>the process prints its address (<c>http://127.0.0.1:PORT</c>) and, when started, <c>vigil: ready</c>;</item>
    /// <item><c>GET /api/health</c> answers 200 once the API serves.</item>
    /// </list>
    /// </summary>
    private async Task<Uri> StartAsync(string config)
    {
        _vigil = VigilProcess.Start(
            ["run", "--config", config, "--home", Home, "--data-dir", DataDirectory, "--web-port", "0"],
            new Dictionary<string, string> { ["VIGIL_ADMIN_PASSWORD"] = AdminPassword });
        await _vigil.WaitForOutputAsync("vigil: ready", s_startup);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Uri? address = null;
        while (address is null)
        {
            address = ListeningAddressRegex().Matches(_vigil.Output)
                .Select(m => new Uri(m.Value + "/"))
                .FirstOrDefault(u => u.Port != _virusTotal!.BaseUrl.Port);
            if (address is null)
            {
                if (clock.Elapsed > s_startup || _vigil.HasExited)
                {
                    throw new InvalidOperationException($"`vigil run` did not print the dashboard's http://127.0.0.1:PORT address. Output:\n{_vigil.Output}");
                }

                await Task.Delay(100);
            }
        }

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            try
            {
                using var health = await http.GetAsync("api/health");
                if (health.IsSuccessStatusCode)
                {
                    return address;
                }
            }
            catch (HttpRequestException)
            {
                // Not serving yet.
            }

            if (clock.Elapsed > s_startup || _vigil.HasExited)
            {
                throw new InvalidOperationException($"GET {address}api/health never answered 200. Output:\n{_vigil.Output}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>A browser-less session (cookies and CSRF token) for API calls, logged in as <paramref name="user"/>.</summary>
    public async Task<(HttpClient Client, string CsrfToken)> LoginAsync(string user, string password)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = BaseAddress };
        using var login = await client.PostAsJsonAsync("api/login", new { username = user, password });
        if (login.StatusCode != HttpStatusCode.OK)
        {
            client.Dispose();
            throw new InvalidOperationException($"POST /api/login as {user}: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}");
        }

        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        return (client, body.GetProperty("csrfToken").GetString()!);
    }

    public async Task DisposeAsync()
    {
        if (_vigil is not null)
        {
            if (!_vigil.HasExited)
            {
                try
                {
                    await _vigil.InterruptAsync(TimeSpan.FromSeconds(30));
                }
                catch (OperationCanceledException)
                {
                    // DisposeAsync kills it.
                }
            }

            await _vigil.DisposeAsync();
        }

        if (_virusTotal is not null)
        {
            await _virusTotal.DisposeAsync();
        }

        _temp.Dispose();
    }

    private async Task CreateViewerAsync()
    {
        var (client, csrf) = await LoginAsync("admin", AdminPassword);
        using (client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/users")
            {
                Content = JsonContent.Create(new { username = ViewerUserName, password = ViewerPassword, role = "viewer" }),
            };
            request.Headers.Add("X-CSRF-Token", csrf);
            using var created = await client.SendAsync(request);
            if (created.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"POST /api/users (viewer): {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            }
        }
    }

    /// <summary>Writes the configuration, the seed's rules for the watched directory and the remove-threat program.</summary>
    private string WriteInstall(Uri virusTotalUrl, string certificatePem)
    {
        var config = _temp.WriteFile("home/config/ossec.conf", $$"""
            <ossec_config>
              <syscheck>
                <disabled>no</disabled>
                <directories realtime="yes">{{WatchedDirectory}}</directories>
              </syscheck>
            </ossec_config>
            <ossec_config>
              <integration>
                <name>virustotal</name>
                <api_key>test-key</api_key>
                <rule_id>100200,100201</rule_id>
                <alert_format>json</alert_format>
                <options>{"base_url": "{{virusTotalUrl}}", "trusted_certificate": "{{certificatePem}}", "requests_per_minute": 600}</options>
              </integration>
            </ossec_config>
            <ossec_config>
              <command>
                <name>remove-threat</name>
                <executable>remove-threat</executable>
                <timeout_allowed>no</timeout_allowed>
              </command>
              <active-response>
                <disabled>no</disabled>
                <command>remove-threat</command>
                <location>local</location>
                <rules_id>87105,200100</rules_id>
              </active-response>
              <ruleset>
                <rule_dir>{{RepositoryPaths.Get("ruleset", "rules")}}</rule_dir>
                <rule_include>config/rules/local_rules.xml</rule_include>
              </ruleset>
            </ossec_config>
            """);
        TestInstall.WriteSeedRules(_temp, "home", WatchedDirectory);
        TestInstall.WriteRemoveThreatScript(_temp, "home");
        return config;
    }

    [GeneratedRegex(@"https?://127\.0\.0\.1:\d+")]
    private static partial Regex ListeningAddressRegex();
}
