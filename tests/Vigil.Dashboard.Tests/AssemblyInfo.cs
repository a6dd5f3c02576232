// Vigil runs on Linux only (inotify, openat, renameat2); the browser is Debian's Chromium.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
