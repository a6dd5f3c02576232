using System.Diagnostics;
using System.Text;
using Vigil.Intel.ClamAv;

namespace Vigil.Intel.Tests.ClamAv;

public sealed class ClamdReplyTests
{
    [Theory]
    [InlineData("stream: OK")]
    [InlineData("fd[9]: OK")]
    public void Parse_Ok_IsClean(string reply) => Assert.IsType<ClamdReply.Clean>(ClamdReply.Parse(reply));

    [Theory]
    [InlineData("stream: Win.Test.EICAR_HDB-1 FOUND", "Win.Test.EICAR_HDB-1")]
    [InlineData("fd[12]: Probe.EICAR.NDB.UNOFFICIAL FOUND", "Probe.EICAR.NDB.UNOFFICIAL")]
    public void Parse_Found_GivesSignature(string reply, string signature) =>
        Assert.Equal(signature, Assert.IsType<ClamdReply.Found>(ClamdReply.Parse(reply)).Signature);

    [Theory]
    [InlineData("INSTREAM size limit exceeded. ERROR", "INSTREAM size limit exceeded.")]
    [InlineData("fd[9]: lstat() failed: No such file or directory. ERROR", "lstat() failed: No such file or directory.")]
    public void Parse_Error_GivesMessage(string reply, string message) =>
        Assert.Equal(message, Assert.IsType<ClamdReply.Error>(ClamdReply.Parse(reply)).Message);

    [Theory]
    [InlineData("")]
    [InlineData("OK")]
    [InlineData("stream:OK")]
    [InlineData("stream: ")]
    [InlineData("stream: FOUND")]
    [InlineData("stream:  FOUND")]
    [InlineData("stream: two words FOUND")]
    [InlineData("stream: OK trailing")]
    [InlineData("/etc/passwd: OK")]
    [InlineData("fd[]: OK")]
    [InlineData("fd[9x]: OK")]
    [InlineData("UNKNOWN COMMAND")]
    [InlineData("PONG")]
    [InlineData(" ERROR")]
    [InlineData("stream: Eicar FOUND\nstream: OK")]
    [InlineData("stream: Eic\u00e4r FOUND")]
    public void Parse_AnythingElse_IsMalformed(string reply) => Assert.IsType<ClamdReply.Malformed>(ClamdReply.Parse(reply));

    [Fact]
    public void Parse_TooLong_IsMalformed() =>
        Assert.IsType<ClamdReply.Malformed>(ClamdReply.Parse("stream: " + new string('A', ClamdReply.MaxLength) + " FOUND"));

    /// <summary>Seeded, time-bounded: mutations of real replies and random bytes never throw, and only exact forms are clean or found.</summary>
    [Fact]
    public void Parse_Fuzzed_NeverThrowsAndNeverGuesses()
    {
        const int Seed = 1604;
        var random = new Random(Seed);
        string[] corpus =
        [
            "stream: OK", "fd[9]: OK", "stream: Win.Test.EICAR_HDB-1 FOUND", "fd[10]: Probe.NDB.UNOFFICIAL FOUND",
            "INSTREAM size limit exceeded. ERROR", "UNKNOWN COMMAND", "PONG", "ClamAV 1.4.6/27000/Sun Dec  6 09:00:00 2026",
        ];
        var clock = Stopwatch.StartNew();
        var cases = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(2) && cases < 500_000)
        {
            var text = Mutate(random, corpus[random.Next(corpus.Length)]);
            var reply = ClamdReply.Parse(text);
            switch (reply)
            {
                case ClamdReply.Clean:
                    Assert.True(text is "stream: OK" || (text.StartsWith("fd[", StringComparison.Ordinal) && text.EndsWith("]: OK", StringComparison.Ordinal)), $"seed {Seed}: '{text}' read as clean");
                    break;
                case ClamdReply.Found found:
                    Assert.False(string.IsNullOrEmpty(found.Signature) || found.Signature.Contains(' '), $"seed {Seed}: '{text}'");
                    Assert.EndsWith($": {found.Signature} FOUND", text, StringComparison.Ordinal);
                    break;
                case ClamdReply.Error error:
                    Assert.False(string.IsNullOrWhiteSpace(error.Message), $"seed {Seed}: '{text}'");
                    Assert.EndsWith(" ERROR", text, StringComparison.Ordinal);
                    break;
                case ClamdReply.Malformed malformed:
                    Assert.False(string.IsNullOrEmpty(malformed.Reason));
                    break;
            }

            cases++;
        }

        Assert.True(cases > 1000, $"only {cases} cases ran");
    }

    private static string Mutate(Random random, string seed)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(seed));
        var edits = random.Next(0, 4);
        for (var i = 0; i < edits; i++)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0:
                    bytes.RemoveAt(at);
                    break;
                case 1:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 2 when bytes.Count > 0:
                    bytes[at] = (byte)random.Next(32, 127);
                    break;
                case 3:
                    bytes.InsertRange(at, Encoding.ASCII.GetBytes(random.Next(3) switch { 0 => " FOUND", 1 => ": ", _ => " ERROR" }));
                    break;
                default:
                    bytes.AddRange(Enumerable.Range(0, random.Next(1, 8)).Select(_ => (byte)random.Next(256)));
                    break;
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }
}
