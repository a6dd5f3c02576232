using System.Text;

namespace Vigil.Analysis.Alerts;

/// <summary>Formats an alert as an <c>alerts.log</c> entry (spec §6.3).</summary>
internal static class AlertLog
{
    private static readonly string[] s_months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    // One builder per thread, reused: a fresh builder sized for the entry cost more than formatting it.
    [ThreadStatic]
    private static StringBuilder? t_builder;

    // A builder that grew for an unusually large entry is not kept.
    private const int MaxRetainedCapacity = 64 * 1024;

    public static string Format(Alert alert, AlertContext context) => FormatShared(alert, context).ToString();

    /// <summary>The entry in a builder that the next call on this thread reuses.</summary>
    internal static StringBuilder FormatShared(Alert alert, AlertContext context)
    {
        var sb = t_builder is { Capacity: <= MaxRetainedCapacity } kept ? kept.Clear() : (t_builder = new StringBuilder(4096));
        Append(sb, alert, context);
        return sb;
    }

    private static void Append(StringBuilder sb, Alert alert, AlertContext context)
    {
        var e = alert.Event;
        sb.Append("** Alert ").Append(alert.Id).Append(':').Append(alert.IsMail ? " mail " : "").Append(" - ")
          .Append(alert.Rule.GroupString).Append('\n');
        var local = LocalClock.ToLocal(alert.Timestamp);
        Span<char> when = stackalloc char[19];
        LocalClock.FormatDateTime(local.DateTime, when, ' ');
        sb.Append(when[..4]).Append(' ').Append(s_months[local.Month - 1]).Append(' ').Append(when[8..]).Append(' ');
        if (e.Agent is { } agent)
        {
            sb.Append('(').Append(agent.Name).Append(") ").Append(agent.Ip ?? "any").Append("->").Append(e.Location);
        }
        else
        {
            sb.Append(context.ManagerName).Append("->").Append(e.Location);
        }

        sb.Append('\n');
        sb.Append("Rule: ").Append(alert.Rule.Id).Append(" (level ").Append(alert.Rule.Level).Append(") -> '")
          .Append(alert.Description).Append("'\n");
        AppendStatic(sb, "Src IP: ", e.Fields.GetStatic("srcip"));
        AppendStatic(sb, "Src Port: ", e.Fields.GetStatic("srcport"));
        AppendStatic(sb, "Dst IP: ", e.Fields.GetStatic("dstip"));
        AppendStatic(sb, "Dst Port: ", e.Fields.GetStatic("dstport"));
        AppendStatic(sb, "User: ", e.Fields.GetStatic("dstuser"));

        // full_log is printed even with no_full_log.
        sb.Append(e.FullLog).Append('\n');
        if (e.Syscheck is { } fim)
        {
            var a = fim.After;
            sb.Append("Attributes:\n");
            Line(" - Size: ", a.Size);
            Line(" - Permissions: ", a.Perm);
            if (a.Mtime is { } mtime)
            {
                sb.Append(" - Date: ");
                AppendDate(sb, LocalClock.FromUnixSeconds(mtime).DateTime);
                sb.Append('\n');
            }

            Line(" - Inode: ", a.Inode);
            if (a.Uid is not null)
            {
                sb.Append(" - User: ").Append(a.UserName).Append(" (").Append(a.Uid).Append(")\n");
            }

            if (a.Gid is not null)
            {
                sb.Append(" - Group: ").Append(a.GroupName).Append(" (").Append(a.Gid).Append(")\n");
            }

            Line(" - MD5: ", a.Md5);
            Line(" - SHA1: ", a.Sha1);
            Line(" - SHA256: ", a.Sha256);
            if (fim.Diff is { } diff)
            {
                sb.Append("What changed:\n").Append(diff).Append('\n');
            }

            if (fim.Tags is { Count: > 0 } tags)
            {
                sb.Append("Tags:\n");
                foreach (var tag in tags)
                {
                    sb.Append(" - ").Append(tag).Append('\n');
                }
            }
        }
        else
        {
            // An indexed loop: a foreach over the interface-typed list would allocate an enumerator per alert.
            var dynamic = e.Fields.Dynamic;
            for (var i = 0; i < dynamic.Count; i++)
            {
                sb.Append(dynamic[i].Key).Append(": ").Append(dynamic[i].Value).Append('\n');
            }
        }

        if (alert.PreviousEvents is { Count: > 0 } previous)
        {
            foreach (var p in previous)
            {
                sb.Append(p.FullLog).Append('\n');
            }
        }

        sb.Append('\n');

        void Line(string label, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                sb.Append(label).Append(value).Append('\n');
            }
        }
    }

    private static readonly string[] s_days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

    /// <summary><c>ddd MMM d HH:mm:ss yyyy</c> in the invariant culture (ctime's layout without the padded day).</summary>
    private static void AppendDate(StringBuilder sb, DateTime date)
    {
        Span<char> time = stackalloc char[19];
        LocalClock.FormatDateTime(date, time);
        sb.Append(s_days[(int)date.DayOfWeek]).Append(' ').Append(s_months[date.Month - 1]).Append(' ')
          .Append(date.Day).Append(' ').Append(time[11..]).Append(' ').Append(time[..4]);
    }

    private static void AppendStatic(StringBuilder sb, string label, string? value)
    {
        if (value is not null)
        {
            sb.Append(label).Append(value).Append('\n');
        }
    }
}
