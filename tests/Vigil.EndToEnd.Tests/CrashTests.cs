using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// Issue 13, defect 3: `vigil run` SIGKILLed at random moments of bursts of new files (one in ten EICAR), restarted
/// each time; afterwards each file has exactly one FIM alert and each malicious file one verdict, one removal and one
/// quarantine. Before the fix a kill lost the events and responses that were only in memory (files never alerted,
/// EICAR left on disk) and could repeat others. The large run is `bench` scenario `crash-run`.
/// </summary>
public sealed class CrashTests
{
    [Fact]
    public async Task Run_KilledDuringBursts_EveryFileAlertedAndRemovedExactlyOnce()
    {
        using var fixture = new RunFixture();

        // Vigil's shipped wrapper: remove-threat runs in process, as in a real install.
        File.Copy(RepositoryPaths.Get("active-response", "bin", "remove-threat"), Path.Combine(fixture.Home, "active-response", "bin", "remove-threat"), overwrite: true);
        VigilProcess? vigil = null;
        try
        {
            var drill = new CrashDrill(fixture.Watched, fixture.AlertsJson, seed: 13)
            {
                StartAsync = async () =>
                {
                    if (vigil is not null)
                    {
                        await vigil.DisposeAsync();
                    }

                    vigil = fixture.Start();
                    await vigil.WaitForOutputAsync("vigil: ready", TimeSpan.FromSeconds(60));
                },
                KillAsync = _ => vigil!.KillAsync(),
                Settle = TimeSpan.FromSeconds(60),
            };

            var result = await drill.RunAsync(kills: 3, filesPerBurst: 60);
            Assert.True(result.Lost == 0 && result.Duplicated == 0, $"{result}\n{vigil!.Output}");
            Assert.Equal(240, result.Files);
            Assert.Equal(0, await vigil!.InterruptAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            if (vigil is not null)
            {
                await vigil.DisposeAsync();
            }
        }
    }

    // The same drill on the manager path: a real enrolled agent watching the directory, and at each burst either the
    // manager or the agent SIGKILLed (seeded), each restarted.
    [Fact]
    public async Task Manager_ManagerOrAgentKilledDuringBursts_EveryFileAlertedAndRemovedExactlyOnce()
    {
        using var fixture = new TransportFixture();
        VigilProcess? manager = null;
        VigilProcess? agent = null;
        try
        {
            manager = fixture.StartManager();
            await manager.WaitForOutputAsync("vigil: manager ready", TimeSpan.FromSeconds(60));
            var home = await fixture.EnrollAsync("web-01");
            File.Copy(RepositoryPaths.Get("active-response", "bin", "remove-threat"), Path.Combine(home.Home, "active-response", "bin", "remove-threat"), overwrite: true);
            var drill = new CrashDrill(home.Watched, fixture.AlertsJson, seed: 14)
            {
                StartAsync = async () =>
                {
                    if (manager is null || manager.HasExited)
                    {
                        if (manager is not null)
                        {
                            await manager.DisposeAsync();
                        }

                        manager = fixture.StartManager();
                        await manager.WaitForOutputAsync("vigil: manager ready", TimeSpan.FromSeconds(60));
                    }

                    if (agent is null || agent.HasExited)
                    {
                        if (agent is not null)
                        {
                            await agent.DisposeAsync();
                        }

                        agent = TransportFixture.StartAgent(home);
                        await agent.WaitForOutputAsync("vigil: agent ready", TimeSpan.FromSeconds(60));
                    }
                },
                KillAsync = random => random.Next(2) == 0 ? manager!.KillAsync() : agent is null ? Task.CompletedTask : agent.KillAsync(),
                Settle = TimeSpan.FromSeconds(90),
            };

            var result = await drill.RunAsync(kills: 4, filesPerBurst: 50);
            Assert.True(result.Lost == 0 && result.Duplicated == 0, $"{result}\n{manager!.Output}\n{agent?.Output}");
        }
        finally
        {
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (manager is not null)
            {
                await manager.DisposeAsync();
            }
        }
    }
}
