using Vigil.Fim.Probe;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

return args switch
{
    ["guard", var directory, .. var options] => GuardRole.Run(directory, options),
    ["run", var scenario, var directory] => Scenarios.Run(scenario, directory),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Vigil.Fim.Probe run SCENARIO DIR | guard DIR [options]  (inside unshare -m, DIR a private tmpfs)");
    return 2;
}
