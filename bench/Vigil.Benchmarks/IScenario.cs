namespace Vigil.Benchmarks;

/// <summary>A whole-system measurement run by name from the command line; prints its figures and the baseline's.</summary>
internal interface IScenario
{
    public string Name { get; }

    public string Description { get; }

    public Task<int> RunAsync(string[] args);
}
