// Vigil runs on Linux: file modes (0600 keys) are set at creation.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
