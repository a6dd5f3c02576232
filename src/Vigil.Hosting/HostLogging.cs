using Microsoft.Extensions.Logging;

namespace Vigil.Hosting;

/// <summary>The logs of `vigil manager` and `vigil agent`: one line per entry on the console, or JSON with --log-json.</summary>
internal static class HostLogging
{
    public static ILoggerFactory Create(bool json) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(LogLevel.Information);
        builder.AddFilter("Microsoft", LogLevel.Warning);
        builder.AddFilter("Grpc", LogLevel.Warning);

        // The dashboard's key ring is kept under the data directory (0700, like the rest of it); there is no key
        // store on Linux to encrypt it with, which is all this warning says.
        builder.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        if (json)
        {
            builder.AddJsonConsole();
        }
        else
        {
            builder.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
            });
        }
    });
}
