using Vigil.Core.Configuration;
using Vigil.Core.Patterns;

namespace Vigil.Analysis.Decoding.Xml;

/// <summary>Where a decoder's <c>regex</c>, <c>prematch</c> or plugin starts reading (its <c>offset</c> attribute).</summary>
internal enum DecoderOffset
{
    /// <summary>The whole log (after pre-decoding).</summary>
    None,

    /// <summary><c>after_parent</c>: after the parent's prematch.</summary>
    AfterParent,

    /// <summary><c>after_prematch</c>: after this decoder's own prematch.</summary>
    AfterPrematch,

    /// <summary><c>after_regex</c>: after the previous sibling's regex.</summary>
    AfterRegex,
}

/// <summary>How the JSON plugin writes a JSON null (<c>json_null_field</c>).</summary>
internal enum JsonNullHandling
{
    /// <summary>As the word <c>null</c> (Wazuh's default).</summary>
    AsString,

    /// <summary>Left out.</summary>
    Discard,
}

/// <summary>One <c>&lt;decoder&gt;</c> of a decoder file, as read.</summary>
internal sealed class XmlDecoder
{
    public required string Name { get; init; }
    public required SourceLocation Source { get; init; }
    public string? Parent { get; set; }
    public Pattern? ProgramName { get; set; }
    public Pattern? Prematch { get; set; }
    public DecoderOffset PrematchOffset { get; set; }
    public Pattern? Regex { get; set; }
    public DecoderOffset RegexOffset { get; set; }
    public IReadOnlyList<string> Order { get; set; } = [];
    public string Category { get; set; } = RuleCategories.Syslog;
    public IReadOnlyList<string> Fts { get; set; } = [];
    public string? FtsComment { get; set; }
    public bool UseOwnName { get; set; }
    public bool IsJsonPlugin { get; set; }
    public DecoderOffset PluginOffset { get; set; }
    public JsonNullHandling JsonNull { get; set; }

    /// <summary>Set on a child when the next sibling has the same name: both regexes run, one after the other.</summary>
    public bool GetNext { get; set; }

    /// <summary>The name alerts and <c>decoded_as</c> see: the parent's, unless <c>use_own_name</c> is true.</summary>
    public string EffectiveName { get; set; } = "";

    public DecoderInfo Info { get; set; } = null!;

    public override string ToString() => $"decoder '{Name}' at {Source}";
}

/// <summary>A top-level decoder and the children that name it as their parent, in load order.</summary>
internal sealed class XmlDecoderNode(XmlDecoder decoder)
{
    public XmlDecoder Decoder { get; } = decoder;

    public List<XmlDecoder> Children { get; } = [];
}
