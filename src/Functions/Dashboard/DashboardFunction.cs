using System.Collections.Frozen;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Dashboard;

/// <summary>
/// <c>GET /api/dashboard</c>: a page over the same API (an overview with charts as its home, the list, job view with live progress and logs, actions, a new-job
/// form), and its script and styles (<c>/api/dashboard/app.js</c>, <c>app.css</c>), embedded in the assembly. The page
/// holds no data: everything it shows comes from the API under the caller's own identity, so an owner sees their jobs
/// and an admin all. The function key the page was opened with (<c>?code=</c>) is passed on to its assets and API calls.
/// A Content-Security-Policy allows only this origin's script and styles — no inline script, nothing from elsewhere.
/// </summary>
public sealed class DashboardFunction
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (string ContentType, string Text)> Assets = new Dictionary<string, (string, string)>
    {
        ["index.html"] = ("text/html; charset=utf-8", Read("index.html")),
        ["app.js"] = ("text/javascript; charset=utf-8", Read("app.js")),
        ["app.css"] = ("text/css; charset=utf-8", Read("app.css")),
        // uPlot (npm uplot, pinned in package-lock.json; docs/dependencies.md): the overview's charts, served from here
        // like the rest, so the page's policy stays 'self' only. It styles its elements through the CSSOM, which the
        // policy allows (no inline style attributes or <style> elements).
        ["uplot.js"] = ("text/javascript; charset=utf-8", Read("uplot.js")),
        ["uplot.css"] = ("text/css; charset=utf-8", Read("uplot.css")),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    [Function(nameof(Dashboard))]
    public IActionResult Dashboard(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "dashboard/{file?}")] HttpRequest request, string? file)
    {
        if (file is null && request.Path.Value is { Length: > 1 } path && path.EndsWith('/'))
        {
            // The page's asset and API paths are relative to /api/dashboard, without the slash.
            request.HttpContext.Response.Headers.Location = path.TrimEnd('/') + request.QueryString.Value;
            return new StatusCodeResult(StatusCodes.Status302Found);
        }
        var name = file ?? "index.html";
        if (name == "index.html" && file is not null || !Assets.TryGetValue(name, out var asset))
        {
            return new NotFoundResult();
        }
        var text = asset.Text;
        if (name == "index.html")
        {
            // The key the page was opened with goes on to its assets (they are function-level like every route).
            var code = request.Query["code"].ToString();
            text = text.Replace("{{key}}", code.Length == 0 ? "" : "?code=" + WebUtility.HtmlEncode(Uri.EscapeDataString(code)), StringComparison.Ordinal);
        }
        var headers = request.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        return new TextResult(text, asset.ContentType);
    }

    /// <summary>
    /// Writes the text itself: needs no MVC result executor, so it behaves the same under the worker's ASP.NET Core
    /// integration and in the local runner.
    /// </summary>
    private sealed class TextResult(string text, string contentType) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context)
        {
            var response = context.HttpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = contentType;
            return response.WriteAsync(text, context.HttpContext.RequestAborted);
        }
    }

    private static string Read(string name)
    {
        using var stream = typeof(DashboardFunction).Assembly.GetManifestResourceStream("Dashboard/" + name)
            ?? throw new InvalidOperationException($"The dashboard asset {name} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
