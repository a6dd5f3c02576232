using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.StaticFiles;

namespace Vigil.Web;

/// <summary>One dashboard file: its bytes, content type and ETag.</summary>
internal sealed record DashboardFile(string Path, byte[] Content, string ContentType, string ETag);

/// <summary>
/// The dashboard's files, embedded in the assembly as <c>dashboard/&lt;relative path&gt;</c> (no CDN, no disk): read
/// once at start. When a page is missing from the build a minimal placeholder stands in, so the server still answers.
/// </summary>
internal sealed class DashboardFiles
{
    public const string ResourcePrefix = "dashboard/";

    private readonly FrozenDictionary<string, DashboardFile> _files;

    public DashboardFiles(Assembly assembly, string prefix = ResourcePrefix)
    {
        var types = new FileExtensionContentTypeProvider();
        var files = new Dictionary<string, DashboardFile>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var path = name[prefix.Length..].Replace('\\', '/');
            files[path] = File(path, buffer.ToArray(), types);
        }

        files.TryAdd("index.html", File("index.html", Placeholder("Vigil", "The dashboard is not part of this build."), types));
        files.TryAdd("login.html", File("login.html", Placeholder("Vigil: sign in", "The login page is not part of this build."), types));
        _files = files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public static DashboardFiles Embedded() => new(typeof(DashboardFiles).Assembly);

    /// <summary>The file at this relative path (no leading slash), or null.</summary>
    public DashboardFile? Find(string path) => _files.GetValueOrDefault(path);

    public IEnumerable<string> Paths => _files.Keys;

    private static DashboardFile File(string path, byte[] content, FileExtensionContentTypeProvider types)
    {
        var type = types.TryGetContentType(path, out var known) ? known : "application/octet-stream";
        if (type.StartsWith("text/", StringComparison.Ordinal) || type is "application/javascript" or "text/javascript" or "application/json")
        {
            type += "; charset=utf-8";
        }

        return new DashboardFile(path, content, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..32] + "\"");
    }

    private static byte[] Placeholder(string title, string text) => Encoding.UTF8.GetBytes($"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
        <body><h1>{title}</h1><p>{text} The API is at <a href="/openapi/v1.json">/openapi/v1.json</a>.</p></body></html>
        """);
}
