namespace Vigil.Benchmarks;

/// <summary>The summary figures every scenario reports: medians of rounds and percentiles of latencies.</summary>
internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The nearest-rank percentile of sorted values; <paramref name="percent"/> from 0 to 100.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent) =>
        sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
