using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vigil.Core.Diagnostics;

namespace Vigil.Analysis.Decoding.Xml;

/// <summary>
/// The decoders of the configured decoder files, applied as Wazuh applies them: an event with a program name is
/// tried against the decoders that have a <c>program_name</c>, any other against those that have none; the first
/// top-level decoder whose program name and prematch match claims the event; then the first child whose prematch
/// matches (a child without one matches at once), and its regex (with the siblings of the same name chained after
/// it) extracts the fields its <c>order</c> names.
/// </summary>
internal sealed class XmlDecoderTree : IDecoder
{
    private readonly List<XmlDecoderNode> _withProgramName = [];
    private readonly List<XmlDecoderNode> _withoutProgramName = [];

    private XmlDecoderTree(IReadOnlyList<string> names, IReadOnlyDictionary<string, string> refused)
    {
        Names = names;
        Refused = refused;
    }

    public IReadOnlyList<string> Names { get; }

    /// <summary>Decoders left out by name (an element Vigil refuses, or a refused parent), with the reason.</summary>
    public IReadOnlyDictionary<string, string> Refused { get; }

    public int Count { get; private set; }

    /// <summary>Builds the tree from decoders in load order, reporting a child whose parent is missing.</summary>
    public static XmlDecoderTree Build(IReadOnlyList<XmlDecoder> decoders, IReadOnlyDictionary<string, string> refused, DiagnosticBag diagnostics)
    {
        var refusedAll = new Dictionary<string, string>(refused, StringComparer.Ordinal);
        var tree = new XmlDecoderTree([.. decoders.Select(d => d.Name).Distinct(StringComparer.Ordinal)], refusedAll);
        foreach (var decoder in decoders)
        {
            if (decoder.Parent is null)
            {
                decoder.EffectiveName = decoder.Name;
                decoder.Info = new DecoderInfo(decoder.Name, null, decoder.Category) { Fts = decoder.Fts };
                (decoder.ProgramName is not null ? tree._withProgramName : tree._withoutProgramName).Add(new XmlDecoderNode(decoder));
                tree.Count++;
                continue;
            }

            var parents = tree._withProgramName.Concat(tree._withoutProgramName).Where(n => n.Decoder.Name == decoder.Parent).ToList();
            if (parents.Count == 0)
            {
                var message = refusedAll.TryGetValue(decoder.Parent, out var reason)
                    ? $"decoder '{decoder.Name}' left out: its parent '{decoder.Parent}' was left out ({reason})"
                    : $"decoder '{decoder.Name}': parent decoder '{decoder.Parent}' is not defined (a parent must come before its children)";
                diagnostics.Error(decoder.Source.File, decoder.Source.Line, message);
                if (reason is not null)
                {
                    refusedAll.TryAdd(decoder.Name, reason);
                }

                continue;
            }

            if (!AddChild(parents, decoder, diagnostics))
            {
                continue;
            }

            decoder.EffectiveName = decoder.UseOwnName ? decoder.Name : decoder.Parent;
            decoder.Info = new DecoderInfo(decoder.EffectiveName, decoder.Parent, decoder.Category) { Fts = decoder.Fts };
            tree.Count++;
        }

        return tree;
    }

    private static bool AddChild(List<XmlDecoderNode> parents, XmlDecoder decoder, DiagnosticBag diagnostics)
    {
        foreach (var parent in parents)
        {
            var siblings = parent.Children.Where(c => c.Name == decoder.Name).ToList();
            if (siblings.Count > 0)
            {
                string? problem = decoder.Prematch is not null ? "a decoder with the same name as an earlier sibling cannot have its own <prematch>"
                    : decoder.Fts.Count > 0 ? "a decoder with the same name as an earlier sibling cannot have its own <fts>"
                    : !((decoder.Regex is not null || decoder.IsJsonPlugin) && siblings.All(s => s.Regex is not null || s.IsJsonPlugin)) ? "decoders of the same name need a <regex> (or a plugin) each"
                    : null;
                if (problem is not null)
                {
                    diagnostics.Error(decoder.Source.File, decoder.Source.Line, $"decoder '{decoder.Name}': {problem}");
                    return false;
                }

                foreach (var sibling in siblings)
                {
                    sibling.GetNext = true;
                }
            }
            else if (decoder.RegexOffset == DecoderOffset.AfterRegex)
            {
                diagnostics.Error(decoder.Source.File, decoder.Source.Line, $"decoder '{decoder.Name}': offset after_regex needs an earlier sibling of the same name");
                return false;
            }

            parent.Children.Add(decoder);
        }

        return true;
    }

    public bool TryDecode(AnalysisEvent e)
    {
        var nodes = e.ProgramName is not null ? _withProgramName : _withoutProgramName;
        var log = e.Log;
        foreach (var node in nodes)
        {
            var top = node.Decoder;
            var pmatch = 0;
            if (e.ProgramName is not null && (top.ProgramName is null || !top.ProgramName.IsMatch(e.ProgramName)))
            {
                continue;
            }

            if (top.Prematch is not null)
            {
                pmatch = top.Prematch.MatchEnd(log, 0, null);
                if (pmatch < 0)
                {
                    continue;
                }
            }

            e.Decoder = top.Info;
            var afterParent = -1;
            var afterPrematch = pmatch;
            var cmatch = pmatch;
            var index = -1;
            XmlDecoder? current = top;
            if (node.Children.Count > 0)
            {
                current = null;
                for (var c = 0; c < node.Children.Count;)
                {
                    var child = node.Children[c];
                    if (child.Prematch is not null)
                    {
                        var from = child.PrematchOffset == DecoderOffset.AfterParent ? pmatch : 0;
                        var end = child.Prematch.MatchEnd(log, from, null);
                        if (end >= 0)
                        {
                            cmatch = end;
                            e.Decoder = child.Info;
                            afterParent = pmatch;
                            afterPrematch = cmatch;
                            current = child;
                            index = c;
                            break;
                        }
                    }
                    else
                    {
                        cmatch = pmatch;
                        current = child;
                        index = c;
                        break;
                    }

                    // A chain of same-name siblings is skipped as a whole.
                    while (c < node.Children.Count && node.Children[c].GetNext)
                    {
                        c++;
                    }

                    c++;
                }

                if (current is null)
                {
                    return true;
                }
            }

            RunRegexes(e, node, current, index, pmatch, cmatch, afterParent, afterPrematch);
            return true;
        }

        return false;
    }

    private static void RunRegexes(AnalysisEvent e, XmlDecoderNode node, XmlDecoder current, int index, int pmatch, int cmatch, int afterParent, int afterPrematch)
    {
        var log = e.Log;
        var regexPrev = -1;
        List<string>? captures = null;
        while (true)
        {
            if (current.IsJsonPlugin)
            {
                var from = current.PluginOffset switch
                {
                    DecoderOffset.AfterParent => afterParent,
                    DecoderOffset.AfterPrematch => afterPrematch,
                    _ => 0,
                };
                if (from >= 0)
                {
                    DecodeJson(e, log[from..], current.JsonNull);
                }
            }
            else if (current.Regex is not null)
            {
                var from = current.RegexOffset switch
                {
                    DecoderOffset.AfterParent => pmatch,
                    DecoderOffset.AfterPrematch => cmatch,
                    DecoderOffset.AfterRegex => regexPrev >= 0 ? regexPrev : cmatch,
                    _ => 0,
                };
                captures ??= [];
                var end = current.Regex.MatchEnd(log, from, captures);
                if (end < 0)
                {
                    if (current.GetNext && index >= 0 && index + 1 < node.Children.Count)
                    {
                        current = node.Children[++index];
                        continue;
                    }

                    return;
                }

                regexPrev = end;
                for (var i = 0; i < captures.Count && i < current.Order.Count; i++)
                {
                    SetField(e.Fields, current.Order[i], captures[i]);
                }
            }
            else
            {
                return;
            }

            if (current.GetNext && index >= 0 && index + 1 < node.Children.Count)
            {
                current = node.Children[++index];
            }
            else
            {
                return;
            }
        }
    }

    private static void SetField(EventFields fields, string name, string value)
    {
        if (EventFields.IsStaticName(name) || name is "user" or "dstuser" or "srcuser")
        {
            fields.SetStatic(name, value);
        }
        else
        {
            fields.AddDynamic(name, value);
        }
    }

    private static void DecodeJson(AnalysisEvent e, string text, JsonNullHandling nulls)
    {
        if (nulls == JsonNullHandling.Discard)
        {
            try
            {
                if (JsonNode.Parse(text) is JsonObject root)
                {
                    RemoveNulls(root);
                    using var document = JsonDocument.Parse(root.ToJsonString());
                    JsonFieldFlattener.Flatten(document.RootElement, e.Fields);
                }
            }
            catch (JsonException)
            {
                // Wazuh's plugin leaves the fields empty on a parse error.
            }

            return;
        }

        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            JsonFieldFlattener.TryFlatten(bytes.AsSpan(0, Encoding.UTF8.GetBytes(text, bytes)), e.Fields, allowTrailingText: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private static void RemoveNulls(JsonObject node)
    {
        foreach (var (key, value) in node.ToList())
        {
            if (value is null)
            {
                node.Remove(key);
            }
            else if (value is JsonObject child)
            {
                RemoveNulls(child);
            }
        }
    }
}
