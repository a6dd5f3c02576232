using System.Reflection;
using BenchmarkDotNet.Running;
using Vigil.Benchmarks;

// `dotnet run -c Release --project bench/Vigil.Benchmarks -- <scenario> [args]` runs a whole-system scenario
// (latency distributions, throughput runs against a baseline); anything else goes to BenchmarkDotNet.
var scenarios = typeof(IScenario).Assembly.GetTypes()
    .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IScenario).IsAssignableFrom(t))
    .Select(t => (IScenario)Activator.CreateInstance(t)!)
    .ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);

if (args.Length > 0 && scenarios.TryGetValue(args[0], out var scenario))
{
    return await scenario.RunAsync(args[1..]);
}

if (args is ["list"])
{
    foreach (var s in scenarios.Values.OrderBy(s => s.Name))
    {
        Console.WriteLine($"{s.Name,-24} {s.Description}");
    }

    return 0;
}

BenchmarkSwitcher.FromAssembly(Assembly.GetExecutingAssembly()).Run(args);
return 0;
