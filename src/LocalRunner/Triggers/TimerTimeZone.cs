using Microsoft.Extensions.Configuration;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// The time zone timer schedules are read in. The Functions host itself evaluates schedules in the process's local
/// time zone (<c>TimeZoneInfo.Local</c>, see <c>CronSchedule</c> and <c>TimerListener</c>); in Azure that zone is UTC
/// unless the app sets <c>WEBSITE_TIME_ZONE</c> (Windows, and Linux Premium/Dedicated) or <c>TZ</c> (Linux; .NET reads
/// it for the local zone); on Linux Consumption and Flex Consumption both are unsupported and the host only logs an
/// error. The runner follows the deployed behaviour rather than its own machine's zone: <c>WEBSITE_TIME_ZONE</c>,
/// else <c>TZ</c> (a leading ':' allowed), read from app settings (local.settings.json or the environment), else UTC.
/// A Windows zone id or an IANA one both work here. A zone this machine does not know stops the trigger at start-up.
/// Core Tools differs: it uses the developer machine's local zone.
/// </summary>
public static class TimerTimeZone
{
    public static TimeZoneInfo Resolve(IConfiguration configuration)
    {
        var name = configuration["WEBSITE_TIME_ZONE"] is { Length: > 0 } website ? website
            : configuration["TZ"] is { Length: > 0 } tz ? tz.TrimStart(':')
            : null;
        if (name is null)
        {
            return TimeZoneInfo.Utc;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new InvalidOperationException($"Timer schedules: time zone '{name}' (WEBSITE_TIME_ZONE / TZ) is not known on this machine.", ex);
        }
    }
}
