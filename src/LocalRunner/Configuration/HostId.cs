using System.Text;
using Microsoft.Extensions.Configuration;

namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// The host id that names the host's own blobs (timer status, singleton locks), as the Functions host's
/// <c>ScriptHostIdProvider</c> makes it when running locally: <c>AzureFunctionsWebHost:hostid</c> if set, else the
/// machine name (letters and digits) and a stable hash of the script root, at most 32 characters, lower case,
/// without a trailing '-'. Two hosts with the same id share their keys (secrets), timers' status and locks.
/// </summary>
public static class HostId
{
    public const string Setting = "AzureFunctionsWebHost:hostid";

    private const int MaxLength = 32;

    public static string Resolve(IConfiguration configuration, string scriptRoot)
    {
        if (configuration[Setting] is { Length: > 0 } configured)
        {
            return configured;
        }
        var machine = new StringBuilder();
        foreach (var c in Environment.MachineName.Where(char.IsLetterOrDigit))
        {
            machine.Append(c);
        }
        var id = $"{machine}-{Math.Abs((long)StableHash(scriptRoot))}";
        return (id.Length > MaxLength ? id[..MaxLength] : id).ToLowerInvariant().TrimEnd('-');
    }

    /// <summary>The host's <c>Utility.GetStableHash</c>: the same on every run, unlike <see cref="string.GetHashCode()"/>.</summary>
    internal static int StableHash(string value)
    {
        unchecked
        {
            var hash = 23;
            foreach (var c in value)
            {
                hash = (hash * 31) + c;
            }
            return hash;
        }
    }
}
