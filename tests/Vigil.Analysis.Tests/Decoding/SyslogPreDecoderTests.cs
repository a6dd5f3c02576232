using Vigil.Analysis.Decoding;
using Vigil.Core.Events;

namespace Vigil.Analysis.Tests.Decoding;

public sealed class SyslogPreDecoderTests
{
    private static AnalysisEvent PreDecode(string log)
    {
        var e = new AnalysisEvent(new EventMessage('1', "test", log), DateTimeOffset.UnixEpoch);
        SyslogPreDecoder.Apply(e);
        return e;
    }

    [Theory]
    [InlineData("Dec 29 10:00:01 web01 sshd[1234]: Accepted password", "Dec 29 10:00:01", "web01", "sshd", "Accepted password")]
    [InlineData("Dec  3 10:00:01 web01 su: FAILED su", "Dec  3 10:00:01", "web01", "su", "FAILED su")]
    [InlineData("2015 Dec 29 10:00:01 host prog: text", "2015 Dec 29 10:00:01", "host", "prog", "text")]
    [InlineData("2007-06-14T15:48:55-04:00 host prog[9]: text", "2007-06-14T15:48:55-04:00", "host", "prog", "text")]
    [InlineData("2009-05-22T09:36:46.214994-07:00 host prog: text", "2009-05-22T09:36:46.214994-07:00", "host", "prog", "text")]
    [InlineData("Dec 29 10:00:01 sol-host sshd[7]: [ID 800047 auth.info] Accepted", "Dec 29 10:00:01", "sol-host", "sshd", "Accepted")]
    [InlineData("Dec 29 10:00:01 named: query", "Dec 29 10:00:01", null, "named", "query")]
    [InlineData("Dec 29 10:00:01 host not a program", "Dec 29 10:00:01", "host", null, "not a program")]
    public void Apply_SyslogHeader_SplitsTimestampHostProgramAndLog(string log, string timestamp, string? host, string? program, string rest)
    {
        var e = PreDecode(log);

        Assert.Equal(timestamp, e.PreDecodedTimestamp);
        Assert.Equal(host, e.PreDecodedHostname);
        Assert.Equal(program, e.ProgramName);
        Assert.Equal(rest, e.Log);
        Assert.Equal(log, e.FullLog);
    }

    [Theory]
    [InlineData("wazuh-yara: INFO - Scan result: r /tmp/x")]
    [InlineData("{\"a\":1}")]
    [InlineData("")]
    public void Apply_NoHeader_LeavesTheLog(string log)
    {
        var e = PreDecode(log);

        Assert.Equal(log, e.Log);
        Assert.Null(e.ProgramName);
        Assert.Null(e.PreDecodedTimestamp);
    }

    [Fact]
    public void Apply_RandomInput_NeverThrows()
    {
        var random = new Random(19);
        const string alphabet = "Dec 0123:-T.[]ID ab:";
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(0, 48)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            var e = PreDecode(new string(chars));
            Assert.NotNull(e.Log);
        }
    }
}
