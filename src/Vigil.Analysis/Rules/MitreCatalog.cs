using System.Text.Json;

namespace Vigil.Analysis.Rules;

/// <summary>MITRE ATT&amp;CK technique names and tactics, read from <c>ruleset/mitre.json</c>, for <c>rule.mitre</c>.</summary>
internal sealed class MitreCatalog
{
    private readonly Dictionary<string, (string Technique, string[] Tactics)> _techniques;

    private MitreCatalog(Dictionary<string, (string, string[])> techniques) => _techniques = techniques;

    public static MitreCatalog Empty { get; } = new(new(StringComparer.OrdinalIgnoreCase));

    /// <summary>Reads <c>{"T1203": {"technique": "...", "tactics": ["Execution"]}, …}</c>.</summary>
    public static MitreCatalog Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        var map = new Dictionary<string, (string, string[])>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            var technique = property.Value.GetProperty("technique").GetString() ?? "";
            var tactics = property.Value.GetProperty("tactics").EnumerateArray().Select(t => t.GetString() ?? "").ToArray();
            map[property.Name] = (technique, tactics);
        }

        return new MitreCatalog(map);
    }

    public bool Contains(string id) => _techniques.ContainsKey(id);

    /// <summary>The technique name and tactics of an id, or null when unknown.</summary>
    public (string Technique, string[] Tactics)? Find(string id) =>
        _techniques.TryGetValue(id, out var entry) ? entry : null;
}
