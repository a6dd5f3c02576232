using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Manager.Tests;

/// <summary>
/// The fields a host hands the index with a FIM alert (taken from the alert, not read back from its document) must be
/// exactly what the index reads out of that document: otherwise a search, a chain or the live feed would see another alert
/// than alerts.json holds.
/// </summary>
public sealed class AlertDocumentTests : IDisposable
{
    private const string Hashes = "\"hash_md5\":\"44d88612fea8a8f36de82e1278abb02f\",\"hash_sha1\":\"3395856ce81f2b7382dee72602f798b642f14140\",\"hash_sha256\":\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\"";

    private readonly TempDirectory _temp = new("vigil-alert-document");
    private readonly AlertFileWriter _writer;
    private readonly AnalysisPipeline _pipeline;

    public AlertDocumentTests()
    {
        var config = OssecConfigLoader.Load(RepositoryPaths.Get("config", "ossec.conf"), new ConfigLoadOptions { Home = RepositoryPaths.Root }).Config;
        var rules = AnalysisFactory.LoadRules(config, new DiagnosticBag());
        _writer = AlertFileWriter.Open(_temp.Combine("alerts"), jsonOutput: true, logOutput: true);
        _pipeline = AnalysisFactory.Create(config, rules, _writer, TimeProvider.System);
    }

    public static TheoryData<string, string> FimEvents => new()
    {
        // The manager's own FIM: EICAR under /root (554, then the seed's 100201 with its own groups).
        { "syscheck", Fim("/root/eicar.com", "added") },
        { "[002] (web-02) 10.0.0.5->syscheck", Fim("/etc/passwd", "modified", ",\"changed_attributes\":[\"size\",\"md5\"],\"old_attributes\":{\"type\":\"file\",\"size\":12,\"hash_md5\":\"00000000000000000000000000000000\"}") },
        { "[017] (db \"main\") any->syscheck", Fim("/srv/caf\u00e9 \\\"quoted\\\" \\\\ \ud83d\udd12.txt", "deleted") },
        { "[100] (bench-099) 127.0.0.1->syscheck", Fim("/srv/bench/a099/file-000001.txt", "added") },
    };

    [Theory]
    [MemberData(nameof(FimEvents))]
    public void FimAlert_FieldsTakenFromTheAlert_AreTheFieldsReadFromItsDocument(string location, string message)
    {
        var result = _pipeline.Process(new EventMessage(EventMessage.SyscheckQueue, location, message));
        Assert.True(result.IsWritten, "the event must give a written alert");

        var given = Assert.IsType<AlertFields>(AlertIndexing.FieldsOf(result, _pipeline.Context));

        var read = Assert.IsType<AlertFields>(AlertFields.ReadUtf8(result.AlertUtf8));
        Assert.Equal(read.Groups, given.Groups);
        Assert.NotEmpty(given.Groups);
        Assert.Equal(read.Timestamp.Offset, given.Timestamp.Offset);
        Assert.Equal(read.Timestamp.UtcTicks, given.Timestamp.UtcTicks);
        Assert.Equal(read with { Groups = [] }, given with { Groups = [] });
        Assert.NotNull(given.File);
    }

    [Fact]
    public void NonFimAlert_FieldsAreLeftToTheIndex_WhichReadsThemFromTheDocument()
    {
        var result = _pipeline.Process(new EventMessage('1', "[001] (web-01) 10.0.0.5->virustotal",
            """{"virustotal": {"found": 1, "malicious": 1, "source": {"alert_id": "1700000000.1234", "file": "/root/eicar.com", "md5": "44d88612fea8a8f36de82e1278abb02f", "sha1": "3395856ce81f2b7382dee72602f798b642f14140"}, "sha1": "3395856ce81f2b7382dee72602f798b642f14140", "scan_date": "2022-11-17 17:15:04", "positives": 66, "total": 68, "permalink": "https://www.virustotal.com/gui/file/x/detection"}, "integration": "virustotal"}"""));
        Assert.True(result.IsWritten);

        Assert.Null(AlertIndexing.FieldsOf(result, _pipeline.Context));
        var read = Assert.IsType<AlertFields>(AlertFields.ReadUtf8(result.AlertUtf8));
        Assert.Equal("/root/eicar.com", read.File);
        Assert.Equal("1700000000.1234", read.CausedBy);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _temp.Dispose();
    }

    private static string Fim(string path, string type, string extra = "") =>
        $$$"""{"type":"event","data":{"path":"{{{path}}}","version":2.0,"mode":"realtime","type":"{{{type}}}","timestamp":1700000000,"attributes":{"type":"file","size":68,"perm":"rw-r--r--","uid":"0","gid":"0","user_name":"root","group_name":"root","inode":"1704505","mtime":1700000000,{{{Hashes}}}}{{{extra}}}}}""";
}
