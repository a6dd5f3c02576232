using System.Text;
using Vigil.Analysis.Decoding;

namespace Vigil.Analysis.Rules;

/// <summary>A rule description with <c>$(field)</c> references, parsed once at load (spec §3.7).</summary>
internal sealed class DescriptionTemplate
{
    /// <summary>Wazuh's output limit; past it the raw description is used.</summary>
    public const int MaxLength = 1024;

    private readonly string _raw;
    private readonly (string Text, bool IsField)[] _parts;

    // Per part: what a field reference names (worked out at parse time, not per alert).
    private readonly FieldKind[] _kinds;

    [ThreadStatic]
    private static StringBuilder? t_builder;

    private DescriptionTemplate(string raw, (string Text, bool IsField)[] parts)
    {
        _raw = raw;
        _parts = parts;
        _kinds = [.. parts.Select(p => !p.IsField ? FieldKind.Text : p.Text.ToLowerInvariant() switch
        {
            "hostname" => FieldKind.Hostname,
            "program_name" => FieldKind.ProgramName,
            _ => FieldKind.Field,
        })];
        HasFields = parts.Any(p => p.IsField);
    }

    public static DescriptionTemplate Empty { get; } = new("", []);

    public bool HasFields { get; }

    public static DescriptionTemplate Parse(string raw)
    {
        var parts = new List<(string, bool)>();
        var i = 0;
        while (i < raw.Length)
        {
            var start = raw.IndexOf("$(", i, StringComparison.Ordinal);
            var end = start < 0 ? -1 : raw.IndexOf(')', start + 2);
            if (start < 0 || end < 0)
            {
                parts.Add((raw[i..], false));
                break;
            }

            if (start > i)
            {
                parts.Add((raw[i..start], false));
            }

            parts.Add((raw[(start + 2)..end], true));
            i = end + 1;
        }

        return new DescriptionTemplate(raw, [.. parts]);
    }

    /// <summary>Substitutes fields; a missing field becomes empty; over 1024 characters the raw text is used.</summary>
    public string Render(AnalysisEvent analysisEvent)
    {
        if (!HasFields)
        {
            return _raw;
        }

        // One builder per thread, reused; one that grew for a huge field value is not kept.
        var sb = t_builder is { Capacity: <= 16 * MaxLength } kept ? kept.Clear() : (t_builder = new StringBuilder(MaxLength + 64));
        for (var i = 0; i < _parts.Length; i++)
        {
            var text = _parts[i].Text;
            sb.Append(_kinds[i] switch
            {
                FieldKind.Text => text,
                FieldKind.Hostname => analysisEvent.Agent?.Name,
                FieldKind.ProgramName => null,
                _ => analysisEvent.Fields.Get(text),
            });
        }

        return sb.Length > MaxLength ? _raw : sb.ToString();
    }

    private enum FieldKind : byte
    {
        Text,
        Hostname,
        ProgramName,
        Field,
    }
}
