using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// Before anything opens storage: each storage connection string the runner uses must parse, and every endpoint it
/// names must accept a connection. A failure is a <see cref="StartupException"/> naming the setting (and the endpoint),
/// at once, instead of the Azure SDK's "No valid combination of account information found" without a setting name, or
/// half a minute of retries ending in a long stack. The value itself is never printed: it holds the account key.
/// </summary>
public static class StoragePreflight
{
    /// <summary>How long one endpoint may take to accept a TCP connection.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// One storage connection: the setting it was read from and its connection string, or — for an identity-based
    /// connection (<c>{Setting}__accountName</c>, <c>__blobServiceUri</c>, …) — the section holding those settings.
    /// </summary>
    public sealed record Connection(string Setting, string? Value, IConfigurationSection? Identity = null);

    private static readonly string[] Services = ["blob", "queue", "table"];

    /// <summary>The blob, queue and table endpoints of <paramref name="connection"/>; a malformed value names its setting.</summary>
    public static IReadOnlyList<(string Service, Uri Endpoint)> Endpoints(Connection connection)
    {
        if (connection.Value is null)
        {
            return [.. Services.Select(service => (service, IdentityEndpoint(connection, service)))];
        }
        try
        {
            return
            [
                ("blob", new BlobServiceClient(connection.Value).Uri),
                ("queue", new QueueServiceClient(connection.Value).Uri),
                ("table", new TableServiceClient(connection.Value).Uri),
            ];
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or UriFormatException)
        {
            throw new StartupException(
                $"The setting '{connection.Setting}' is not a valid storage connection string: {ex.Message} " +
                "Check its AccountName, AccountKey (base64, exactly as the portal's Access keys show it) and endpoints; " +
                "for Azurite, UseDevelopmentStorage=true.",
                StartupException.InvalidSetting, ex);
        }
    }

    /// <summary>An identity-based connection's endpoint: <c>__{service}ServiceUri</c>, else the public one of <c>__accountName</c>.</summary>
    private static Uri IdentityEndpoint(Connection connection, string service)
    {
        var section = connection.Identity!;
        if (section[$"{service}ServiceUri"] is { Length: > 0 } uri)
        {
            return Uri.TryCreate(uri, UriKind.Absolute, out var parsed) ? parsed : throw new StartupException(
                $"The setting '{connection.Setting}__{service}ServiceUri' is not an absolute URI.", StartupException.InvalidSetting);
        }
        if (section["accountName"] is { Length: > 0 } account)
        {
            return new Uri($"https://{account}.{service}.core.windows.net");
        }
        throw new StartupException(
            $"The setting '{connection.Setting}' has neither a connection string nor '{connection.Setting}__accountName' " +
            $"(or '{connection.Setting}__{service}ServiceUri') for an identity-based connection.", StartupException.InvalidSetting);
    }

    /// <summary>Parses every connection, then connects once to each distinct endpoint host and port, all together.</summary>
    public static async Task CheckAsync(IEnumerable<Connection> connections, CancellationToken cancellationToken)
    {
        var endpoints = connections.SelectMany(c => Endpoints(c).Select(e => (c.Setting, e.Service, e.Endpoint))).ToList();
        var failures = await Task.WhenAll(endpoints
            .GroupBy(e => (e.Endpoint.Host, e.Endpoint.Port))
            .Select(async group => (Endpoint: group.First(), Error: await TryConnectAsync(group.Key.Host, group.Key.Port, cancellationToken))));
        if (failures.FirstOrDefault(f => f.Error is not null) is { Error: { } error } failed)
        {
            var (setting, service, endpoint) = failed.Endpoint;
            var local = IsLoopback(endpoint.Host);
            throw new StartupException(
                $"Storage is unreachable: nothing answers at {endpoint.Host}:{endpoint.Port}, the {service} endpoint " +
                $"{endpoint.GetLeftPart(UriPartial.Path)} of '{setting}' ({error}). " +
                (local
                    ? "Azurite is not running: start it in another terminal with `npx azurite --location .azurite` (from the repository), or use scripts/run.sh, which starts it."
                    : "Check the account name and endpoints in that setting, and that this machine can reach the account (firewall, private endpoint, DNS)."),
                StartupException.StorageUnreachable);
        }
    }

    private static async Task<string?> TryConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token);
            return null;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "no such host",
                _ => ex.Message,
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {ConnectTimeout.TotalSeconds:0} s";
        }
    }

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}
