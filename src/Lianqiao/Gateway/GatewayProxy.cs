using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Domain.Masking;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Reference;
using Lianqiao.Sharing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Caching.Memory;
using Yarp.ReverseProxy.Forwarder;

namespace Lianqiao.Gateway;

/// <summary>
/// One call through the gateway: key → grant (method, path) → rate limit → circuit → quota → forward → mask → meter and audit.
/// The quota is counted in the database a small block at a time, never past the limit (<see cref="QuotaLeases"/>). The grant and the service row may come from this
/// node's memory, at most one second old (<see cref="GrantService.RecentFor"/>, <see cref="GatewayServiceCache.MaxAge"/>):
/// a revoke, a disable or a change applies at once on the node that makes it and within a second on every other node.
/// </summary>
internal sealed partial class GatewayProxy(
    IHttpForwarder forwarder, GatewayUpstreamClient client, UpstreamState state, AllowListCache allowList, GatewayServiceCache services, QuotaLeases leases, GatewayStats stats,
    IMemoryCache cache, IDataProtectionProvider protection, IAuditLog audit, TimeProvider time, ILogger<GatewayProxy> logger)
{
    public const string RequestIdHeader = "X-Request-Id";
    internal const string SecretPurpose = "Lianqiao.Gateway.UpstreamSecret";
    internal const string PseudonymPurpose = "Lianqiao.Gateway.PseudonymKey";

    static readonly string[] StrippedRequestHeaders =
        ["Authorization", "Proxy-Authorization", "Cookie", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
         "X-Forwarded-Prefix", "X-Forwarded-Port", "X-Real-IP", "X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", RequestIdHeader];

    /// <summary>What the call learnt along the way, for the answer, the meter and the audit record.</summary>
    internal sealed class Call
    {
        public required HttpContext Http;
        public required string RequestId;
        public required string ResourceId;
        public string Path = "/";
        public GatewayService? Service;
        public Uri? Target;
        public string? Upstream;
        public IReadOnlyList<(FieldMask Mask, MaskingRule Rule)> Masks = [];
        public byte[] PseudonymKey = [];
        public long BytesOut;
        // Set on the answer whatever it turns out to be: applied as the response starts, after any reset (ApplyHeaders).
        public string? QuotaLimit, QuotaRemaining, QuotaReset, RetryAfter;
        public bool FailedClosed;
        public string? FailureDetail;
    }

    /// <remarks>
    /// The database services (grants, the service row, the quota counter, the catalog) are resolved from the request only
    /// when a cache misses: a warm call leases no database context at all, and that lease with its reset was a large part
    /// of a call's own CPU.
    /// </remarks>
    public async Task HandleAsync(HttpContext http, string resourceId)
    {
        var started = Stopwatch.GetTimestamp();
        // Read from the claims once: the grant, the audit record and the detail all need it.
        var caller = http.User.Caller();
        var call = new Call { Http = http, RequestId = RequestIdOf(http, time), ResourceId = resourceId };
        http.TraceIdentifier = call.RequestId;
        http.Response.OnStarting(ApplyHeaders, call);
        var countingBody = new CountingStream(http.Request.Body);
        http.Request.Body = countingBody;

        var unavailable = false;
        var ct = http.RequestAborted;
        IResult? refusal;
        try
        {
            (refusal, unavailable) = await RunAsync(http, caller, call, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            refusal = null;
        }
        if (refusal is not null && !http.Response.HasStarted)
        {
            http.Response.Clear();
            await refusal.ExecuteAsync(http);
        }

        var status = http.Response.StatusCode;
        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var bytesOut = call.BytesOut > 0 ? call.BytesOut : http.Response.ContentLength ?? 0;
        if (call.Service is not null) stats.Record(resourceId, status, unavailable, elapsedMs, countingBody.Count, bytesOut);
        // Every call goes to the ledger. The calls of one application to one service that share a group commit are one
        // record, and a call waits for that commit only when too many of this node's are unsettled (IAuditLog.WriteItemAsync).
        var outcome = status < 400 ? AuditOutcome.Success : status is 401 or 403 or 429 ? AuditOutcome.Denied : AuditOutcome.Failure;
        await audit.WriteItemAsync(CallsGroup(caller, resourceId, outcome),
            CallItem(http, call, time.GetUtcNow(), status, elapsedMs, countingBody.Count, bytesOut));
    }

    /// <summary>The call's own headers on whatever answer it gets; static with the call as state, so no closure per call.</summary>
    static Task ApplyHeaders(object state)
    {
        var call = (Call)state;
        var headers = call.Http.Response.Headers;
        headers[RequestIdHeader] = call.RequestId;
        if (call.QuotaLimit is not null) headers["X-RateLimit-Limit"] = call.QuotaLimit;
        if (call.QuotaRemaining is not null) headers["X-RateLimit-Remaining"] = call.QuotaRemaining;
        if (call.QuotaReset is not null) headers["X-RateLimit-Reset"] = call.QuotaReset;
        if (call.RetryAfter is not null) headers.RetryAfter = call.RetryAfter;
        return Task.CompletedTask;
    }

    /// <summary>The record a call's item joins: who called which service, with what outcome.</summary>
    static AuditEntry CallsGroup(Caller caller, string resourceId, string outcome) => new("gateway.calls", outcome)
    {
        ActorKind = caller.Kind.ToString(),
        ActorId = caller.Id,
        ActorName = caller.Name,
        DepartmentId = caller.DepartmentId,
        TargetType = "gateway-service",
        TargetId = resourceId,
    };

    /// <summary>
    /// One call as an item of its group's record, written straight to JSON (camelCase, nulls kept, Chinese unescaped)
    /// without reflecting over an object on every call.
    /// </summary>
    static string CallItem(HttpContext http, Call call, DateTimeOffset at, int status, double elapsedMs, long bytesIn, long bytesOut)
    {
        var buffer = detailBuffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var w = detailWriter ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.Reset(buffer);
        w.WriteStartObject();
        w.WriteString("at", at.UtcDateTime);
        w.WriteString("requestId", call.RequestId);
        w.WriteString("remoteIp", http.Connection.RemoteIpAddress?.ToString());
        w.WriteString("method", http.Request.Method);
        w.WriteString("path", call.Path);
        w.WriteNumber("status", status);
        w.WriteNumber("latencyMs", Math.Round(elapsedMs, 2));
        w.WriteNumber("bytesIn", bytesIn);
        w.WriteNumber("bytesOut", bytesOut);
        w.WriteString("upstream", call.Upstream);
        w.WriteString("failure", call.FailureDetail);
        w.WriteEndObject();
        w.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // One buffer and writer per thread: the detail is built synchronously and copied out as a string.
    [ThreadStatic] static ArrayBufferWriter<byte>? detailBuffer;
    [ThreadStatic] static Utf8JsonWriter? detailWriter;

    async Task<(IResult? Refusal, bool Unavailable)> RunAsync(HttpContext http, Caller caller, Call call, CancellationToken ct)
    {
        if (!TryGetRemainder(http, call.ResourceId, out var remainder))
            return (Problems.Of(400, "gateway-path-refused", "请求路径不合法", "The path may not contain '..', '//', '@', backslashes or encoded slashes or dots."), false);
        call.Path = remainder.HasValue ? remainder.Value! : "/";

        // The grant comes first: without one a caller learns nothing, not even whether the service exists.
        var grant = GrantService.FindRemembered(cache, time, caller, call.ResourceId, GrantKind.Service)
            ?? await http.RequestServices.GetRequiredService<GrantService>().RememberActiveAsync(caller, call.ResourceId, GrantKind.Service, ct);
        if (grant is null)
            return (Problems.Forbidden("No active service grant on this resource for this key."), false);
        if (!grant.AllowsCall(http.Request.Method, call.Path))
            return (Problems.Of(403, "outside-grant", "超出授权范围", $"The grant does not cover {http.Request.Method} {call.Path}."), false);

        var entry = await services.GetAsync(http, call.ResourceId, ct);
        if (entry is null) return (Problems.NotFound("接口服务", "gateway service"), false);
        var service = entry.Service;
        call.Service = service;
        if (!service.Enabled)
            return (Problems.Of(503, "service-disabled", "接口服务已停用", "The service is disabled by its provider."), false);
        if (!service.Methods.Contains(http.Request.Method, StringComparer.OrdinalIgnoreCase) || !service.PathPrefixes.Any(p => Grant.PathMatches(p, call.Path)))
            return (Problems.Of(403, "outside-service", "接口未开放该路径", $"The service does not expose {http.Request.Method} {call.Path}."), false);

        // Calls are not held for their commit, so none is served while the ledger cannot write: the refusals' own items
        // probe it, and the first that commits lets calls through again.
        if (audit.Failing)
        {
            call.RetryAfter = "1";
            return (Problems.Of(503, "audit-unavailable", "审计账本暂不可写", "The audit ledger cannot record calls right now; calls resume once it can."), false);
        }

        if (!state.TryAcquireRate(caller.Id, service))
        {
            call.RetryAfter = "1";
            return (Problems.Of(429, "rate-limited", "调用过于频繁", $"More than {service.RateLimitPerSecond} calls per second from this application."), false);
        }

        if (http.Request.ContentLength > service.MaxRequestBytes)
            return (Problems.Of(413, "payload-too-large", "请求内容过大", $"The service accepts at most {service.MaxRequestBytes} bytes."), false);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature) sizeFeature.MaxRequestBodySize = service.MaxRequestBytes;

        var (admission, retryAfter) = state.Admit(service);
        if (admission == UpstreamState.Admission.Open)
        {
            call.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (Problems.Of(503, "circuit-open", "上游接口暂不可用", "The upstream failed repeatedly; calls resume after Retry-After seconds."), true);
        }

        // Counted before forwarding: a call the quota does not cover never reaches the upstream.
        var (taken, remaining) = await leases.TryTakeAsync(grant.Id, grant.QuotaPerDay, http, ct);
        if (!taken)
        {
            if (admission == UpstreamState.Admission.Probe) state.CancelProbe(service);
            SetQuotaHeaders(call, grant.QuotaPerDay!.Value, 0);
            call.RetryAfter = call.QuotaReset;
            return (Problems.Of(429, "quota-exhausted", "今日调用次数已用完", $"The grant allows {grant.QuotaPerDay} calls per day; the quota resets at midnight (UTC+8)."), false);
        }
        if (grant.QuotaPerDay is { } limit) SetQuotaHeaders(call, limit, Math.Max(0, remaining ?? 0));

        return await ForwardAsync(http, call, entry, admission, ct);
    }

    async Task<(IResult? Refusal, bool Unavailable)> ForwardAsync(HttpContext http, Call call, GatewayServiceCache.Entry entry, UpstreamState.Admission admission,
        CancellationToken ct)
    {
        var service = entry.Service;
        var upstream = state.Pick(service);
        call.Upstream = upstream;
        var baseUri = BaseOf(upstream);
        if (baseUri is null || !(await allowList.GetAsync(ct)).AllowsHost(baseUri.Uri))
        {
            if (admission == UpstreamState.Admission.Probe) state.CancelProbe(service);
            return (Problems.Of(502, "upstream-not-allowed", "上游地址不在白名单", "The upstream host is not on the platform's allow-list."), false);
        }
        var target = RequestUtilities.MakeDestinationAddress(upstream, new PathString(call.Path == "/" && !upstream.EndsWith('/') ? "" : call.Path), http.Request.QueryString);
        // Whatever the path held, the request goes to the registered host and stays below the registered base path.
        if (target.Scheme != baseUri.Uri.Scheme || target.IdnHost != baseUri.Uri.IdnHost || target.Port != baseUri.Uri.Port
            || !target.AbsolutePath.StartsWith(baseUri.Path, StringComparison.Ordinal))
            return (Problems.Of(400, "gateway-path-refused", "请求路径不合法", "The path would leave the registered upstream."), false);
        call.Target = target;

        var masks = entry.Masks;
        if (masks.Count > 0)
        {
            call.Masks = await ResolveMasksAsync(service, masks, http.RequestServices.GetRequiredService<ICatalogReader>(), ct);
            call.PseudonymKey = service.ProtectedPseudonymKey is { } pk ? Convert.FromBase64String(protection.CreateProtector(PseudonymPurpose).Unprotect(pk)) : [];
        }

        var error = await forwarder.SendAsync(http, upstream, client.Invoker,
            new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromMilliseconds(Math.Max(100, service.TimeoutMs)) },
            new Transformer(this, call, service), ct);

        if (error == ForwarderError.None)
        {
            var upstreamFailed = http.Response.StatusCode >= 500 && !call.FailedClosed;
            state.Record(service, success: !upstreamFailed);
            if (call.FailedClosed)
                return (Problems.Of(502, "response-refused", "上游响应无法安全返回", call.FailureDetail ?? "The upstream response could not be masked; it is withheld."), false);
            return (null, upstreamFailed);
        }

        var exception = http.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (error is ForwarderError.RequestCanceled or ForwarderError.ResponseBodyCanceled or ForwarderError.RequestBodyCanceled)
        {
            if (admission == UpstreamState.Admission.Probe) state.CancelProbe(service);
            return (null, false);
        }
        if (FindInner<UpstreamRefusedException>(exception) is { } refused)
        {
            LogRefused(call.ResourceId, refused.Message);
            state.Record(service, success: false);
            call.FailureDetail = refused.Message;
            return (Problems.Of(502, "upstream-address-refused", "上游地址被拒绝", "The upstream resolves to an address the allow-list does not name."), true);
        }
        state.Record(service, success: false);
        call.FailureDetail = $"{error}: {exception?.GetBaseException().Message}";
        LogUpstreamFailed(call.ResourceId, error, exception?.GetBaseException().Message);
        if (error == ForwarderError.RequestTimedOut)
            return (Problems.Of(504, "upstream-timeout", "上游接口超时", $"The upstream did not answer within {service.TimeoutMs} ms."), true);
        if (error == ForwarderError.RequestBodyClient)
            return (Problems.Of(400, "request-body", "请求内容读取失败", "The request body could not be read or is larger than the service accepts."), false);
        return (Problems.Of(502, "upstream-unreachable", "上游接口不可达", "The upstream could not be reached or answered improperly."), true);
    }

    /// <summary>A registered upstream base address and its path without the trailing slash; null when it is no absolute URI.</summary>
    internal sealed record UpstreamBase(Uri Uri, string Path);

    // Parsed once per registered address, not on every call: upstream addresses are few and change only by registration.
    readonly ConcurrentDictionary<string, UpstreamBase?> bases = new(StringComparer.Ordinal);

    UpstreamBase? BaseOf(string upstream) => bases.GetOrAdd(upstream, static u =>
        Uri.TryCreate(u, UriKind.Absolute, out var uri) ? new UpstreamBase(uri, uri.AbsolutePath.TrimEnd('/')) : null);

    string UnprotectSecret(string protectedSecret) => protection.CreateProtector(SecretPurpose).Unprotect(protectedSecret);

    static T? FindInner<T>(Exception? ex) where T : Exception
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is T t) return t;
        }
        return null;
    }

    static async Task<IReadOnlyList<(FieldMask, MaskingRule)>> ResolveMasksAsync(GatewayService service, IReadOnlyList<FieldMask> masks, ICatalogReader catalog, CancellationToken ct)
    {
        var items = masks.Any(m => m.Item is not null) ? (await catalog.FindAsync(service.ResourceId, ct))?.Items ?? [] : [];
        return masks.Select(m =>
        {
            if (m.Item is not null)
            {
                var item = items.FirstOrDefault(i => string.Equals(i.ColumnName, m.Item, StringComparison.OrdinalIgnoreCase));
                // An item the catalog no longer has masks whole rather than passing through.
                return (m, item is null ? MaskingRule.Suppress : MaskingRules.ToRule(item.MaskingRule, item.MaskKeepFirst, item.MaskKeepLast, item.Kind));
            }
            return (m, MaskingRules.ToRule(m.Rule ?? MaskingRules.Suppress, m.KeepFirst, m.KeepLast, ItemKind.Other));
        }).ToList();
    }

    void SetQuotaHeaders(Call call, long limit, long remaining)
    {
        call.QuotaLimit = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        call.QuotaRemaining = remaining.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Seconds until the quota day (UTC+8) ends.
        var reset = ChinaTime.StartOf(time.Today().AddDays(1)) - time.GetUtcNow();
        call.QuotaReset = Math.Max(1, (long)Math.Ceiling(reset.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    static string RequestIdOf(HttpContext http, TimeProvider time)
    {
        var given = http.Request.Headers[RequestIdHeader].ToString();
        return given.Length is > 0 and <= 64 && given.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') ? given : NewRequestId(time);
    }

    /// <summary>
    /// A version-7 UUID (milliseconds, then 74 random bits) as 32 hex digits. The random bits come from
    /// <see cref="Random.Shared"/>, not <see cref="Guid.CreateVersion7()"/>: that reads the kernel's random device, one
    /// system call per gateway call, and a request id must be unique, not secret.
    /// </summary>
    internal static string NewRequestId(TimeProvider time)
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes[6..]);
        Span<byte> millis = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(millis, time.GetUtcNow().ToUnixTimeMilliseconds());
        millis[2..].CopyTo(bytes);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true).ToString("N");
    }

    /// <summary>
    /// The part of the path after /gateway/{resourceId}; false when the request tries to steer the upstream path
    /// (dot segments, empty segments, encoded slashes or dots, backslashes, '@', control characters).
    /// </summary>
    internal static bool TryGetRemainder(HttpContext http, string resourceId, out PathString remainder)
    {
        remainder = default;
        var raw = (http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "").AsSpan();
        var rawPath = raw.IndexOf('?') is var q and >= 0 ? raw[..q] : raw;
        if (rawPath.Contains("..", StringComparison.Ordinal) || rawPath.Contains("//", StringComparison.Ordinal)
            || rawPath.IndexOfAny('\\', '@') >= 0)
            return false;
        // Most paths carry no escapes at all: one scan for '%' spares them the six below.
        if (rawPath.Contains('%')
            && (rawPath.Contains("%2f", StringComparison.OrdinalIgnoreCase) || rawPath.Contains("%5c", StringComparison.OrdinalIgnoreCase)
                || rawPath.Contains("%2e", StringComparison.OrdinalIgnoreCase) || rawPath.Contains("%40", StringComparison.OrdinalIgnoreCase)
                || rawPath.Contains("%00", StringComparison.Ordinal) || rawPath.Contains("%25", StringComparison.Ordinal)))
            return false;
        var path = http.Request.Path;
        if (!path.StartsWithSegments("/gateway/" + resourceId, StringComparison.Ordinal, out remainder)) return false;
        return !remainder.HasValue || !remainder.Value!.Any(char.IsControl);
    }

    /// <summary>Per call: rewrites the request for the upstream and checks (and masks) its answer.</summary>
    sealed class Transformer(GatewayProxy proxy, Call call, GatewayService service) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.RequestUri = call.Target;
            var headers = proxyRequest.Headers;
            // The forwarder copied the consumer's headers: only those it sent need removing (Kestrel answers that cheaply).
            var sent = httpContext.Request.Headers;
            foreach (var name in StrippedRequestHeaders)
            {
                if (sent.ContainsKey(name)) headers.Remove(name);
            }
            headers.Host = null;
            headers.TryAddWithoutValidation(RequestIdHeader, call.RequestId);
            // Masking reads the body, so ask for it uncompressed (and refuse it if it comes compressed anyway).
            if (call.Masks.Count > 0) headers.Remove("Accept-Encoding");
            if (service.AuthKind != UpstreamAuthKind.None && service.ProtectedSecret is { } protectedSecret)
            {
                var secret = proxy.UnprotectSecret(protectedSecret);
                if (service.AuthKind == UpstreamAuthKind.Basic)
                    headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{service.AuthName}:{secret}")));
                else if (service.AuthName is { Length: > 0 } headerName)
                    headers.TryAddWithoutValidation(headerName, secret);
            }
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            if (proxyResponse is null) return await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            // Upstream cookies would land on the platform's own origin.
            httpContext.Response.Headers.Remove("Set-Cookie");
            var length = proxyResponse.Content.Headers.ContentLength;
            var bodiless = HttpMethods.IsHead(httpContext.Request.Method) || (int)proxyResponse.StatusCode is 204 or 304;
            if (call.Masks.Count > 0 && !bodiless) return await MaskAsync(httpContext, proxyResponse, cancellationToken);
            if (length > service.MaxResponseBytes) return Refuse(httpContext, $"The upstream response is larger than {service.MaxResponseBytes} bytes.");
            if (length is { } known)
            {
                call.BytesOut = known;
                return true;
            }
            // Unknown length: copied here with a cap; past the cap the client gets a cut connection, never more bytes.
            await using var source = await proxyResponse.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                call.BytesOut += read;
                if (call.BytesOut > service.MaxResponseBytes)
                {
                    if (!httpContext.Response.HasStarted) return Refuse(httpContext, $"The upstream response is larger than {service.MaxResponseBytes} bytes.");
                    call.FailureDetail = "response over the size limit, connection cut";
                    httpContext.Abort();
                    return false;
                }
                await httpContext.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            return false;
        }

        bool Refuse(HttpContext httpContext, string detail)
        {
            call.FailedClosed = true;
            call.FailureDetail = detail;
            httpContext.Response.Clear();
            return false;
        }

        async ValueTask<bool> MaskAsync(HttpContext httpContext, HttpResponseMessage response, CancellationToken ct)
        {
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
            if (!(mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal)))
                return Refuse(httpContext, $"Masking is configured and the upstream answered '{mediaType}', not JSON; the response is withheld.");
            if (response.Content.Headers.ContentEncoding.Any(e => !string.Equals(e, "identity", StringComparison.OrdinalIgnoreCase)))
                return Refuse(httpContext, "Masking is configured and the upstream answered compressed; the response is withheld.");
            if (response.Content.Headers.ContentLength > service.MaxResponseBytes)
                return Refuse(httpContext, $"The upstream response is larger than {service.MaxResponseBytes} bytes; it cannot be masked.");

            using var buffer = new MemoryStream();
            await using (var source = await response.Content.ReadAsStreamAsync(ct))
            {
                var chunk = new byte[16 * 1024];
                int read;
                while ((read = await source.ReadAsync(chunk, ct)) > 0)
                {
                    if (buffer.Length + read > service.MaxResponseBytes)
                        return Refuse(httpContext, $"The upstream response is larger than {service.MaxResponseBytes} bytes; it cannot be masked.");
                    buffer.Write(chunk, 0, read);
                }
            }
            JsonNode? root;
            try
            {
                root = JsonNode.Parse(buffer.ToArray());
            }
            catch (JsonException)
            {
                return Refuse(httpContext, "Masking is configured and the upstream response is not valid JSON; the response is withheld.");
            }
            foreach (var (mask, rule) in call.Masks) JsonMasking.Apply(root, mask.Path.Split('.', StringSplitOptions.RemoveEmptyEntries), 0, rule, call.PseudonymKey);
            var bytes = Encoding.UTF8.GetBytes(root?.ToJsonString(GatewayJson.Relaxed) ?? "null");
            httpContext.Response.Headers.Remove("Content-MD5");
            httpContext.Response.Headers.ETag = default;
            httpContext.Response.ContentLength = bytes.Length;
            call.BytesOut = bytes.Length;
            await httpContext.Response.Body.WriteAsync(bytes, ct);
            return false;
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Gateway refused to connect for {Service}: {Reason}")]
    partial void LogRefused(string service, string reason);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Upstream of {Service} failed: {Error} {Reason}")]
    partial void LogUpstreamFailed(string service, ForwarderError error, string? reason);
}

/// <summary>Walks a dotted path through objects (and every element of arrays on the way) and masks what it reaches.</summary>
internal static class JsonMasking
{
    public static void Apply(JsonNode? node, string[] path, int index, MaskingRule rule, byte[] key)
    {
        if (node is JsonArray array)
        {
            foreach (var element in array) Apply(element, path, index, rule, key);
            return;
        }
        if (node is not JsonObject obj || index >= path.Length || !obj.TryGetPropertyValue(path[index], out var child)) return;
        if (index < path.Length - 1)
        {
            Apply(child, path, index + 1, rule, key);
            return;
        }
        if (child is JsonArray values)
        {
            for (var i = 0; i < values.Count; i++) values[i] = MaskValue(values[i], rule, key);
        }
        else
        {
            obj[path[index]] = MaskValue(child, rule, key);
        }
    }

    static JsonNode? MaskValue(JsonNode? value, MaskingRule rule, byte[] key)
    {
        if (value is null) return null;
        // Objects and arrays under a masked name are suppressed whole: the rule was written for a scalar.
        if (value is not JsonValue scalar) return null;
        var text = scalar.TryGetValue<string>(out var s) ? s : scalar.ToJsonString();
        var masked = Masker.Apply(rule, text, key);
        return masked is null ? null : JsonValue.Create(masked);
    }
}

/// <summary>Counts the request bytes the forwarder reads.</summary>
internal sealed class CountingStream(Stream inner) : Stream
{
    public long Count { get; private set; }
    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = inner.Read(buffer, offset, count);
        Count += n;
        return n;
    }
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        Count += n;
        return n;
    }
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The one HTTP client the gateway sends through (SSRF-guarded connect, no redirects, no proxy, no cookies).</summary>
internal sealed class GatewayUpstreamClient(AllowListCache allowList, UpstreamResolver resolver) : IDisposable
{
    public HttpMessageInvoker Invoker { get; } = UpstreamClient.Create(allowList, resolver);
    public void Dispose() => Invoker.Dispose();
}
