using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>
/// Reads Vigil's <c>&lt;database&gt;</c> block (docs/multi-manager.md). A password written in the block or in its URL
/// is refused: ossec.conf is read by more than the manager, so secrets come from a file of their own or the
/// environment.
/// </summary>
internal static class DatabaseReader
{
    private static readonly string[] Options = ["url", "password_file", "ca_password_file"];

    public static DatabaseOptions? Read(ConfigContext context, XElement block, DatabaseOptions? current)
    {
        if (current?.Source is { } earlier)
        {
            context.Error(block, $"<database> is already given at {earlier}; a manager has one shared database");
            return current;
        }

        string? url = null;
        string? passwordFile = null;
        string? caPasswordFile = null;
        var valid = true;
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "url":
                    url = Url(context, element);
                    valid &= url is not null;
                    break;
                case "password_file":
                    passwordFile = PathOf(context, element);
                    valid &= passwordFile is not null;
                    break;
                case "ca_password_file":
                    caPasswordFile = PathOf(context, element);
                    valid &= caPasswordFile is not null;
                    break;
                case "password" or "ca_password":
                    context.Error(element, $"{ConfigContext.Name(element)} is not read from ossec.conf (other programs read it too): give <{element.Name.LocalName}_file> or the environment variable instead");
                    valid = false;
                    break;
                default:
                    context.UnknownOption(element, "database", Options);
                    valid = false;
                    break;
            }
        }

        if (url is null)
        {
            if (valid)
            {
                context.Error(block, "<database> needs a <url> (postgres://USER@HOST:PORT/DATABASE)");
            }

            return null;
        }

        return valid ? new DatabaseOptions { Url = url, PasswordFile = passwordFile, CaPasswordFile = caPasswordFile, Source = context.Locate(block) } : null;
    }

    private static string? Url(ConfigContext context, XElement element)
    {
        var text = ConfigContext.Text(element);
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        var rest = scheme > 0 && text[..scheme].ToLowerInvariant() is "postgres" or "postgresql" ? text[(scheme + 3)..] : null;
        if (rest is null)
        {
            context.Error(element, $"<url> of <database> must be postgres://USER@HOST:PORT/DATABASE, got {ConfigContext.Shown(text)}");
            return null;
        }

        // The password is not repeated in the message.
        var authority = rest.Split('/', '?')[0];
        var at = authority.LastIndexOf('@');
        var query = rest.Contains('?', StringComparison.Ordinal) ? rest[(rest.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";
        if ((at >= 0 && Uri.UnescapeDataString(authority[..at]).Contains(':', StringComparison.Ordinal))
            || query.Split('&').Any(p => p.Split('=')[0].Equals("password", StringComparison.OrdinalIgnoreCase)))
        {
            context.Error(element, "<url> of <database> holds a password; put it in <password_file> or $VIGIL_DATABASE_PASSWORD instead");
            return null;
        }

        return text;
    }

    private static string? PathOf(ConfigContext context, XElement element)
    {
        var text = ConfigContext.Text(element);
        if (text.Length == 0)
        {
            context.Error(element, $"{ConfigContext.Name(element)} of <database> must not be empty (a file whose first line is the password)");
            return null;
        }

        return text;
    }
}
