using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Vigil.Intel.Yara;

/// <summary>One message of the YARA compiler, with the rule file and line it names.</summary>
internal sealed record YaraDiagnostic(string File, int Line, string Message, bool IsError)
{
    public override string ToString() => $"{File}:{Line}: {(IsError ? "error" : "warning")}: {Message}";
}

/// <summary>Compiled rules (null when any file has an error), the compiler's messages, and the rules' version.</summary>
internal sealed record YaraCompileResult(YaraRules? Rules, IReadOnlyList<string> Files, IReadOnlyList<YaraDiagnostic> Diagnostics, string Version)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// Compiles rule files and directories (every <c>*.yar</c> and <c>*.yara</c> below a directory, in ordinal order) into
/// one set of rules. The version is the SHA-256 of the files' names and contents, so the verdict cache can tell which
/// rules gave a verdict. A broken file is reported with its file:line; then each file is compiled alone as well, so
/// that every broken file is named, not only the first.
/// </summary>
internal static unsafe class YaraCompiler
{
    private static readonly string[] s_extensions = [".yar", ".yara"];

    /// <summary>The rule files the sources name, or errors for sources that do not exist.</summary>
    public static IReadOnlyList<string> Files(IEnumerable<string> sources, List<YaraDiagnostic> errors)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var files = new List<string>();
        foreach (var source in sources)
        {
            var full = Path.GetFullPath(source);
            if (Directory.Exists(full))
            {
                files.AddRange(Directory.EnumerateFiles(full, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false })
                    .Where(f => s_extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(full))
            {
                files.Add(full);
            }
            else
            {
                errors.Add(new YaraDiagnostic(full, 0, "no such rule file or directory", IsError: true));
            }
        }

        return [.. files.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Compiles the sources; never throws for a bad rule file, only when libyara itself is missing.</summary>
    public static YaraCompileResult Compile(IEnumerable<string> sources)
    {
        YaraNative.EnsureInitialized();
        var diagnostics = new List<YaraDiagnostic>();
        var files = Files(sources, diagnostics);
        var version = Version(files, diagnostics);
        if (diagnostics.Count > 0)
        {
            return new YaraCompileResult(null, files, diagnostics, version);
        }

        if (files.Count == 0)
        {
            diagnostics.Add(new YaraDiagnostic(string.Join(", ", sources), 0, "no rule files (*.yar, *.yara) found", IsError: true));
            return new YaraCompileResult(null, files, diagnostics, version);
        }

        var rules = CompileAll(files, diagnostics);
        if (rules is null)
        {
            // Name every broken file: the compiler cannot go on after its first error.
            var all = new List<YaraDiagnostic>();
            foreach (var file in files)
            {
                using var alone = CompileAll([file], all);
            }

            foreach (var d in all.Where(d => !diagnostics.Contains(d)))
            {
                diagnostics.Add(d);
            }

            if (!diagnostics.Any(d => d.IsError))
            {
                diagnostics.Add(new YaraDiagnostic(files[0], 0, "the rules do not compile together (a rule name used twice?)", IsError: true));
            }
        }

        return new YaraCompileResult(rules, files, diagnostics, version);
    }

    private static YaraRules? CompileAll(IReadOnlyList<string> files, List<YaraDiagnostic> diagnostics)
    {
        if (YaraNative.CompilerCreate(out var compiler) != YaraNative.ErrorSuccess)
        {
            diagnostics.Add(new YaraDiagnostic(files[0], 0, "the YARA compiler could not be created (out of memory)", IsError: true));
            return null;
        }

        var state = new CompileState(diagnostics);
        var gc = GCHandle.Alloc(state);
        try
        {
            YaraNative.CompilerSetCallback(compiler, &OnMessage, GCHandle.ToIntPtr(gc));
            foreach (var file in files)
            {
                state.Current = file;
                int errors;
                try
                {
                    using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read);
                    errors = YaraNative.CompilerAddFd(compiler, (int)handle.DangerousGetHandle(), null, file);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    diagnostics.Add(new YaraDiagnostic(file, 0, ex.Message, IsError: true));
                    return null;
                }

                if (errors > 0)
                {
                    return null;
                }
            }

            if (YaraNative.CompilerGetRules(compiler, out var rules) != YaraNative.ErrorSuccess)
            {
                diagnostics.Add(new YaraDiagnostic(files[^1], 0, "the compiled rules could not be built (out of memory)", IsError: true));
                return null;
            }

            return new YaraRules(rules);
        }
        finally
        {
            YaraNative.CompilerDestroy(compiler);
            gc.Free();
        }
    }

    private static string Version(IReadOnlyList<string> files, List<YaraDiagnostic> diagnostics)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(file + "\0"));
            try
            {
                sha.AppendData(File.ReadAllBytes(file));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                diagnostics.Add(new YaraDiagnostic(file, 0, ex.Message, IsError: true));
            }

            sha.AppendData("\0"u8);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private sealed class CompileState(List<YaraDiagnostic> diagnostics)
    {
        public List<YaraDiagnostic> Diagnostics => diagnostics;

        public string Current { get; set; } = "";
    }

    [UnmanagedCallersOnly]
    private static void OnMessage(int level, byte* fileName, int line, nint rule, byte* message, nint userData)
    {
        if (GCHandle.FromIntPtr(userData).Target is not CompileState state)
        {
            return;
        }

        var file = fileName is null ? state.Current : Marshal.PtrToStringUTF8((nint)fileName) ?? state.Current;
        var text = message is null ? "unknown error" : Marshal.PtrToStringUTF8((nint)message) ?? "unknown error";
        state.Diagnostics.Add(new YaraDiagnostic(file, line, text, level == YaraNative.ErrorLevelError));
    }
}
