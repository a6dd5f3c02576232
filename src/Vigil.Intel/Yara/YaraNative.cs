using System.Runtime.InteropServices;

namespace Vigil.Intel.Yara;

/// <summary>
/// libyara 4.x by P/Invoke, through the versioned soname so that only Debian's runtime package (libyara9) is needed.
/// Layouts and constants are those of yara/types.h, yara/error.h and yara/scan.h in 4.2.
/// </summary>
internal static unsafe partial class YaraNative
{
    public const string Library = "libyara.so.9";

    public const int ErrorSuccess = 0;
    public const int ErrorInsufficientMemory = 1;
    public const int ErrorCouldNotMapFile = 4;
    public const int ErrorScanTimeout = 26;
    public const int ErrorTooManyScanThreads = 27;

    public const int CallbackMsgRuleMatching = 1;
    public const int CallbackContinue = 0;

    public const int ScanFlagsFastMode = 1;

    /// <summary>YR_MAX_THREADS: scans at once over one set of compiled rules.</summary>
    public const int MaxThreads = 32;

    /// <summary>Compiler callback levels (YARA_ERROR_LEVEL_ERROR, _WARNING).</summary>
    public const int ErrorLevelError = 0;

    // YR_RULE: int32 flags, int32 num_atoms, then references (8 bytes each): identifier, tags, metas, strings, ns.
    public const int RuleIdentifierOffset = 8;
    public const int RuleTagsOffset = 16;
    public const int RuleNamespaceOffset = 40;

    [LibraryImport(Library, EntryPoint = "yr_initialize")]
    public static partial int Initialize();

    [LibraryImport(Library, EntryPoint = "yr_compiler_create")]
    public static partial int CompilerCreate(out nint compiler);

    [LibraryImport(Library, EntryPoint = "yr_compiler_destroy")]
    public static partial void CompilerDestroy(nint compiler);

    [LibraryImport(Library, EntryPoint = "yr_compiler_set_callback")]
    public static partial void CompilerSetCallback(
        nint compiler, delegate* unmanaged<int, byte*, int, nint, byte*, nint, void> callback, nint userData);

    [LibraryImport(Library, EntryPoint = "yr_compiler_add_fd", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int CompilerAddFd(nint compiler, int fd, string? ns, string fileName);

    [LibraryImport(Library, EntryPoint = "yr_compiler_get_rules")]
    public static partial int CompilerGetRules(nint compiler, out nint rules);

    [LibraryImport(Library, EntryPoint = "yr_rules_destroy")]
    public static partial int RulesDestroy(nint rules);

    [LibraryImport(Library, EntryPoint = "yr_rules_scan_fd")]
    public static partial int RulesScanFd(
        YaraRules rules, int fd, int flags, delegate* unmanaged<nint, int, nint, nint, int> callback, nint userData, int timeoutSeconds);

    private static readonly Lazy<int> s_initialized = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>yr_initialize once per process (it is reference-counted; the process keeps its one reference).</summary>
    public static void EnsureInitialized()
    {
        int result;
        try
        {
            result = s_initialized.Value;
        }
        catch (DllNotFoundException ex)
        {
            throw new Core.VigilException($"YARA is not available: {Library} could not be loaded ({ex.Message}); install the libyara9 package");
        }

        if (result != ErrorSuccess)
        {
            throw new Core.VigilException($"YARA could not start (yr_initialize error {result})");
        }
    }

    public static string Describe(int error) => error switch
    {
        ErrorInsufficientMemory => "not enough memory",
        ErrorCouldNotMapFile => "could not map the file",
        ErrorScanTimeout => "scan timed out",
        ErrorTooManyScanThreads => "too many scans at once",
        _ => $"libyara error {error}",
    };
}

/// <summary>Compiled rules; destroyed when the last scan using them ends (SafeHandle reference counting).</summary>
internal sealed class YaraRules : SafeHandle
{
    public YaraRules()
        : base(0, ownsHandle: true)
    {
    }

    internal YaraRules(nint rules)
        : base(0, ownsHandle: true) => SetHandle(rules);

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => YaraNative.RulesDestroy(handle) == YaraNative.ErrorSuccess;
}
