// Vigil runs on Linux only (inotify, openat, renameat2).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
