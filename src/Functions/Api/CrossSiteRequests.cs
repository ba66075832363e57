using Jobs.Functions.Handlers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Api;

/// <summary>
/// Refuses what a hostile web page could make a signed-in user's browser send: a request that changes state
/// (<c>POST</c>, <c>PUT</c>, <c>PATCH</c>, <c>DELETE</c>) from a page of another site, and a body that is not
/// <c>application/json</c> (a page can send <c>text/plain</c> or a form to any site without asking; JSON from another
/// origin needs a CORS preflight, which this app never grants).
/// </summary>
/// <remarks>
/// <para>A browser says where a request comes from: <c>Sec-Fetch-Site</c> (every current browser, over https and to
/// localhost) and, on every non-GET request, <c>Origin</c>. <c>same-origin</c> and <c>none</c> (the user's own action)
/// pass; <c>same-site</c>, <c>cross-site</c> or any other value pass only when <c>Origin</c> is one of
/// <see cref="HttpOptions.AllowedOrigins"/>. Without <c>Sec-Fetch-Site</c>, an <c>Origin</c> must be the app's own
/// (<see cref="PublicUrls.Origin"/>) or an allowed one; <c>Origin: null</c> (sandboxed frames, some redirects) never
/// passes.</para>
/// <para>A request with neither header is not a browser's (curl, Jobs.Client, the CLI, other services) and passes: they
/// carry their own credentials (function key, App Service token) rather than a cookie a browser adds by itself.</para>
/// </remarks>
public sealed class CrossSiteRequests(IOptions<HttpOptions> options, PublicUrls urls)
{
    public const string FetchSiteHeader = "Sec-Fetch-Site";
    public const string OriginHeader = "Origin";

    private readonly IReadOnlySet<string> _allowed = options.Value.AllowedOriginSet();

    /// <summary>Throws a 403 or 415 problem for a request a page of another site may have sent; returns otherwise.</summary>
    public void Check(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method))
        {
            return;
        }
        CheckSite(request);
        CheckMediaType(request);
    }

    private void CheckSite(HttpRequest request)
    {
        var site = request.Headers[FetchSiteHeader].ToString().Trim();
        var origin = request.Headers[OriginHeader].ToString().Trim();
        if (site.Length > 0)
        {
            if (site.Equals("same-origin", StringComparison.OrdinalIgnoreCase) || site.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
            if (IsAllowed(origin))
            {
                return;
            }
            throw Refused($"{FetchSiteHeader}: {Printable(site)} with {Describe(origin)}");
        }
        if (origin.Length == 0 || IsAllowed(origin) || NormalizeOrigin(origin) == urls.Origin(request))
        {
            return;
        }
        throw Refused(Describe(origin));
    }

    private static void CheckMediaType(HttpRequest request)
    {
        var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        if (!hasBody)
        {
            return;
        }
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (!string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            var message = string.IsNullOrEmpty(mediaType)
                ? "is required for a request with a body: application/json"
                : $"must be application/json, not {Printable(mediaType)}";
            throw new ApiProblemException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"Content-Type {message}.", [new InputError("Content-Type", message)]);
        }
    }

    private bool IsAllowed(string origin) => NormalizeOrigin(origin) is { } normalized && _allowed.Contains(normalized);

    /// <summary>
    /// <paramref name="value"/> as an origin, <c>scheme://host[:port]</c> in lower case with a default port left out;
    /// null when it is not one (a path, query, user info, another scheme, <c>null</c>).
    /// </summary>
    public static string? NormalizeOrigin(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0 || uri.AbsolutePath != "/"
            || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            return null;
        }
        return uri.IsDefaultPort ? $"{uri.Scheme}://{uri.Host.ToLowerInvariant()}" : $"{uri.Scheme}://{uri.Host.ToLowerInvariant()}:{uri.Port}";
    }

    private static string Describe(string origin) =>
        origin.Length == 0 ? "no Origin" : $"{OriginHeader}: {Printable(origin)}";

    private static ApiProblemException Refused(string seen) =>
        new(StatusCodes.Status403Forbidden, "Cross-site request refused",
            $"A request that changes state came from a page of another site ({seen}), which is neither this app's origin nor in "
            + $"{HttpOptions.Section}:{nameof(HttpOptions.AllowedOrigins)}.",
            [new InputError(OriginHeader, "is not this app's origin nor an allowed one")]);

    private static string Printable(string value) =>
        new([.. value.Take(100).Select(c => char.IsControl(c) ? '?' : c)]);
}
