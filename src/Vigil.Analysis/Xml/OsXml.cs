using System.Xml;
using System.Xml.Linq;

namespace Vigil.Analysis.Xml;

/// <summary>
/// Reads rule and decoder files the way Wazuh's own XML reader does, which is not XML: an element's text is kept
/// exactly as written (no trimming, no entity decoding, a bare <c>&amp;</c> is text), a <c>&lt;</c> after an odd
/// number of backslashes (<c>\&lt;</c>) is text, <c>&lt;!-- … --&gt;</c> and <c>&lt;! … !&gt;</c> are comments
/// wherever they appear, text outside elements is ignored, and a file may hold several top-level elements.
/// An element that holds child elements keeps as its text only what follows its last child.
/// Real mistakes (an unclosed element or comment, a mismatched closing tag, a bad attribute) are reported with
/// their line. The result is an <see cref="XElement"/> tree so that callers read it with LINQ to XML; each element
/// carries its line (<see cref="LineOf"/>).
/// </summary>
internal static class OsXml
{
    private const int MaxDepth = 1024;

    /// <summary>Parses a whole file into a synthetic root holding its top-level elements.</summary>
    /// <exception cref="OsXmlException">The file has a real syntax error; the exception carries its line.</exception>
    public static XElement Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new Reader(text);
        var root = new XElement("os-xml");
        reader.ReadChildren(root, 0, topLevel: true);
        if (reader.StrayLine > 0)
        {
            root.AddAnnotation(new StrayText(reader.StrayLine, reader.Stray.ToString()));
        }

        return root;
    }

    /// <summary>
    /// The first text outside any element (Wazuh's reader skips it), with its line: a file that has some is not a
    /// rule or decoder file at all (an include of /etc/passwd). Null when there is none.
    /// </summary>
    public static (int Line, string Excerpt)? StrayTextOf(XElement root) =>
        root.Annotation<StrayText>() is { } stray ? (stray.Line, stray.Excerpt) : null;

    private sealed record StrayText(int Line, string Excerpt);

    /// <summary>The line an element was read from (1-based), or 0 when unknown.</summary>
    public static int LineOf(XObject node) => node.Annotation<LineInfo>()?.Line
        ?? (node is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : 0);

    private sealed record LineInfo(int Line);

    private sealed class Reader(string text)
    {
        private int _position;
        private int _line = 1;

        public int StrayLine { get; private set; }

        public System.Text.StringBuilder Stray { get; } = new();

        private int Peek(int ahead = 0) => _position + ahead < text.Length ? text[_position + ahead] : -1;

        private int Next()
        {
            if (_position >= text.Length)
            {
                return -1;
            }

            var c = text[_position++];
            if (c == '\n')
            {
                _line++;
            }

            return c;
        }

        private OsXmlException Error(string message, int? line = null) => new(line ?? _line, message);

        // Reads elements (and, inside an element, its text) until the parent's closing tag or the end of the file.
        public void ReadChildren(XElement parent, int depth, bool topLevel)
        {
            var content = new System.Text.StringBuilder();
            var backslashes = 0;
            while (true)
            {
                var c = Next();
                if (c < 0)
                {
                    if (topLevel)
                    {
                        return;
                    }

                    throw Error($"end of file and element <{parent.Name.LocalName}> (line {LineOf(parent)}) is not closed");
                }

                if (c == '<' && Peek() == '!')
                {
                    SkipComment();
                    continue;
                }

                var isLiteral = backslashes % 2 == 1;
                backslashes = c == '\\' ? backslashes + 1 : 0;
                if (c != '<' || (isLiteral && !topLevel))
                {
                    if (!topLevel)
                    {
                        content.Append((char)c);
                    }
                    else if (StrayLine == 0 ? !char.IsWhiteSpace((char)c) : Stray.Length < 41)
                    {
                        StrayLine = StrayLine == 0 ? _line : StrayLine;
                        Stray.Append((char)c);
                    }

                    continue;
                }

                if (Peek() == '/')
                {
                    if (topLevel)
                    {
                        throw Error("closing tag with no element open");
                    }

                    Next();
                    var line = _line;
                    var name = ReadUntil('>', "closing tag");
                    if (name != parent.Name.LocalName)
                    {
                        throw Error($"element <{parent.Name.LocalName}> (line {LineOf(parent)}) is not closed: found </{name}>", line);
                    }

                    parent.Add(new XText(content.ToString()));
                    return;
                }

                if (topLevel && Peek() == '?')
                {
                    // An XML declaration: Wazuh's reader refuses one, but it is harmless and editors add it.
                    ReadUntil('>', "declaration");
                    continue;
                }

                if (depth + 1 > MaxDepth)
                {
                    throw Error("elements nested too deeply");
                }

                var child = ReadElement(depth + 1);
                parent.Add(child);

                // Wazuh keeps only the text after the last child.
                content.Clear();
            }
        }

        private XElement ReadElement(int depth)
        {
            var line = _line;
            var name = new System.Text.StringBuilder();
            int c;
            while ((c = Next()) >= 0 && c != '>' && !IsSpace(c))
            {
                name.Append((char)c);
            }

            if (c < 0)
            {
                throw Error("end of file inside a tag", line);
            }

            var selfClosing = false;
            if (name.Length > 0 && name[^1] == '/')
            {
                selfClosing = true;
                name.Length--;
            }

            var element = new XElement(ToName(name.ToString(), "element", line));
            element.AddAnnotation(new LineInfo(line));
            if (IsSpace(c) && ReadAttributes(element))
            {
                selfClosing = true;
            }

            if (selfClosing)
            {
                element.Add(new XText(""));
                return element;
            }

            ReadChildren(element, depth, topLevel: false);
            return element;
        }

        // Returns true when the tag ended in "/>".
        private bool ReadAttributes(XElement element)
        {
            while (true)
            {
                var c = Next();
                while (c >= 0 && IsSpace(c))
                {
                    c = Next();
                }

                if (c < 0)
                {
                    throw Error("end of file while reading an attribute");
                }

                if (c == '>')
                {
                    return false;
                }

                if (c == '/')
                {
                    if (Next() != '>')
                    {
                        throw Error($"'/' in the tag of <{element.Name.LocalName}> is not followed by '>'");
                    }

                    return true;
                }

                var attribute = new System.Text.StringBuilder();
                while (c >= 0 && c != '=' && c != '>' && c != '/' && !IsSpace(c))
                {
                    attribute.Append((char)c);
                    c = Next();
                }

                if (c != '=')
                {
                    throw Error($"attribute '{attribute}' has no value");
                }

                var quote = Next();
                while (quote >= 0 && IsSpace(quote))
                {
                    quote = Next();
                }

                if (quote is not ('"' or '\''))
                {
                    throw Error($"attribute '{attribute}' is not followed by a \" or '");
                }

                var value = new System.Text.StringBuilder();
                while ((c = Next()) >= 0 && c != quote)
                {
                    value.Append((char)c);
                }

                if (c < 0)
                {
                    throw Error($"attribute '{attribute}' is not closed");
                }

                var attributeName = ToName(attribute.ToString(), "attribute", _line);
                if (element.Attribute(attributeName) is not null)
                {
                    throw Error($"attribute '{attribute}' is defined twice");
                }

                element.SetAttributeValue(attributeName, value.ToString());
                var after = Peek();
                if (after is not ('>' or '/') && !(after >= 0 && IsSpace(after)))
                {
                    throw Error($"bad attribute closing for '{attribute}'='{value}'");
                }
            }
        }

        // <!-- … --> or <! … !> (Wazuh's own form); the '<' is already read.
        private void SkipComment()
        {
            var line = _line;
            Next(); // '!'
            while (true)
            {
                var c = Next();
                if (c < 0)
                {
                    throw Error("comment is not closed", line);
                }

                if (c == '!' && Peek() == '>')
                {
                    Next();
                    return;
                }

                if (c == '-' && Peek() == '-' && Peek(1) == '>')
                {
                    Next();
                    Next();
                    return;
                }
            }
        }

        private string ReadUntil(char end, string what)
        {
            var start = _position;
            var line = _line;
            int c;
            while ((c = Next()) >= 0 && c != end)
            {
            }

            if (c < 0)
            {
                throw Error($"end of file inside a {what}", line);
            }

            return text[start..(_position - 1)];
        }

        private XName ToName(string name, string what, int line)
        {
            try
            {
                return XName.Get(XmlConvert.VerifyNCName(name));
            }
            catch (XmlException)
            {
                throw Error($"invalid {what} name '{name}'", line);
            }
            catch (ArgumentException)
            {
                throw Error($"invalid {what} name '{name}'", line);
            }
        }

        private static bool IsSpace(int c) => c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f';
    }
}

/// <summary>A syntax error in a rule or decoder file, at a line.</summary>
internal sealed class OsXmlException(int line, string message) : Core.VigilException(message)
{
    public int Line { get; } = line;
}
