using System.Net;
using System.Text.Json;

namespace Vigil.Web.Tests.Api;

public sealed class AlertStreamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static void AddAndPublish(ManagerApiFactory factory, params string[] alerts)
    {
        foreach (var alert in factory.Index.Add(alerts))
        {
            factory.Feed.Publish(alert);
        }
    }

    private static async Task<(HttpResponseMessage Response, StreamReader Reader)> SubscribeAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(": connected", await reader.ReadLineAsync().WaitAsync(Patience));
        Assert.Equal("", await reader.ReadLineAsync().WaitAsync(Patience));
        return (response, reader);
    }

    /// <summary>The next event: its name and data, skipping comments.</summary>
    private static async Task<(string Event, JsonElement Data)> NextEventAsync(StreamReader reader)
    {
        string? name = null;
        string? data = null;
        while (true)
        {
            var line = await reader.ReadLineAsync().WaitAsync(Patience);
            Assert.NotNull(line);
            if (line.Length == 0 && name is not null)
            {
                return (name, JsonDocument.Parse(data!).RootElement.Clone());
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
        }
    }

    [Fact]
    public async Task Stream_DeliversAnAlertAddedAfterSubscribing()
    {
        using var factory = new ManagerApiFactory();
        using var client = factory.Viewer();
        var (response, reader) = await SubscribeAsync(client, "/api/alerts/stream");
        using (response)
        using (reader)
        {
            AddAndPublish(factory, TestAlerts.Fim("1764324000.2001", TestAlerts.Now, 554, 5, "File added to the system.", "/root/new.bin", "added", TestAlerts.Web01));

            var (name, data) = await NextEventAsync(reader);

            Assert.Equal("alert", name);
            Assert.Equal("1764324000.2001", data.GetProperty("id").GetString());
            Assert.Equal("/root/new.bin", data.GetProperty("file").GetString());
            Assert.Equal(554, data.GetProperty("rule").GetProperty("id").GetInt32());
            Assert.Equal("/root/new.bin", data.GetProperty("alert").GetProperty("syscheck").GetProperty("path").GetString());
        }
    }

    [Fact]
    public async Task Stream_WithQuery_SendsOnlyMatchingAlerts()
    {
        using var factory = new ManagerApiFactory();
        using var client = factory.Viewer();
        var (response, reader) = await SubscribeAsync(client, "/api/alerts/stream?q=" + Uri.EscapeDataString("rule.id: is one of 553,100092,87105,100201"));
        using (response)
        using (reader)
        {
            AddAndPublish(factory,
                TestAlerts.Fim("1764324000.3001", TestAlerts.Now, 554, 5, "File added to the system.", "/root/a", "added", TestAlerts.Web01),
                TestAlerts.Fim("1764324001.3002", TestAlerts.Now.AddSeconds(1), 553, 7, "File deleted.", "/root/b", "deleted", TestAlerts.Web01));

            var (_, data) = await NextEventAsync(reader);

            Assert.Equal("1764324001.3002", data.GetProperty("id").GetString());
        }
    }

    [Fact]
    public async Task Stream_Idle_SendsAKeepAliveComment()
    {
        using var factory = new ManagerApiFactory();
        using var client = factory.Viewer();
        var (response, reader) = await SubscribeAsync(client, "/api/alerts/stream");
        using (response)
        using (reader)
        {
            var line = reader.ReadLineAsync();
            var deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
            while (!line.IsCompleted && Environment.TickCount64 < deadline)
            {
                factory.Time.Advance(TimeSpan.FromSeconds(15)); // the stream may not wait yet: advance until it writes
                await Task.WhenAny(line, Task.Delay(50));
            }

            Assert.Equal(": keep-alive", await line.WaitAsync(Patience));
        }
    }

    [Fact]
    public async Task Stream_ClientLeaves_Unsubscribes()
    {
        using var factory = new ManagerApiFactory();
        using var client = factory.Viewer();
        var (response, reader) = await SubscribeAsync(client, "/api/alerts/stream");
        Assert.Equal(1, factory.Feed.SubscriberCount);

        reader.Dispose();
        response.Dispose();

        var deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
        while (factory.Feed.SubscriberCount > 0 && Environment.TickCount64 < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, factory.Feed.SubscriberCount);
    }
}
