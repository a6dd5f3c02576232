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
}
