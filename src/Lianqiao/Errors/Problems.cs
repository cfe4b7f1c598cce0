using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lianqiao.Errors;

/// <summary>
/// RFC 9457 problem details with a stable type, a zh-CN title and an English detail.
/// Every error the platform returns goes through here or through <see cref="ProblemDefaults"/>.
/// </summary>
public static class Problems
{
    public const string TypePrefix = "urn:lianqiao:problem:";

    public static ProblemHttpResult Of(int status, string code, string titleZh, string detailEn,
        IDictionary<string, object?>? extensions = null)
    {
        var ext = new Dictionary<string, object?>(extensions ?? new Dictionary<string, object?>()) { ["code"] = code };
        return TypedResults.Problem(statusCode: status, type: TypePrefix + code, title: titleZh, detail: detailEn, extensions: ext);
    }

    public static ProblemHttpResult NotFound(string what, string whatEn) =>
        Of(StatusCodes.Status404NotFound, "not-found", $"{what}不存在", $"The {whatEn} does not exist.");

    public static ProblemHttpResult Forbidden(string detailEn = "You may not do this here.") =>
        Of(StatusCodes.Status403Forbidden, "forbidden", "无权执行此操作", detailEn);

    public static ProblemHttpResult Conflict(string code, string titleZh, string detailEn) =>
        Of(StatusCodes.Status409Conflict, code, titleZh, detailEn);

    /// <summary>Every validation error at once, keyed by field.</summary>
    public static ProblemHttpResult Validation(IReadOnlyDictionary<string, string[]> errors, string detailEn = "The request has invalid fields; see errors.") =>
        Of(StatusCodes.Status400BadRequest, "validation", "请求内容有误", detailEn,
            new Dictionary<string, object?> { ["errors"] = errors });
}

/// <summary>Fills problem details produced by the framework (bad JSON, 404 routes, 413) in the house shape.</summary>
internal static class ProblemDefaults
{
    static readonly Dictionary<int, (string Code, string Zh, string En)> Known = new()
    {
        [400] = ("bad-request", "请求格式错误", "The request is malformed."),
        [401] = ("unauthenticated", "未登录或凭据无效", "Sign in or send a valid API key."),
        [403] = ("forbidden", "无权执行此操作", "You may not do this here."),
        [404] = ("not-found", "资源不存在", "Nothing exists at this address."),
        [405] = ("method-not-allowed", "不支持该请求方法", "This method is not allowed here."),
        [409] = ("conflict", "操作冲突", "The request conflicts with the current state."),
        [413] = ("payload-too-large", "请求内容过大", "The request body is larger than this endpoint accepts."),
        [415] = ("unsupported-media-type", "不支持的内容类型", "This content type is not accepted here."),
        [429] = ("too-many-requests", "请求过于频繁", "Too many requests; retry later."),
        [500] = ("internal-error", "服务器内部错误", "An unexpected error occurred; it has been logged."),
        [503] = ("unavailable", "服务暂不可用", "The service is unavailable."),
    };

    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        if (problem.Type is null || !problem.Type.StartsWith(Problems.TypePrefix, StringComparison.Ordinal))
        {
            var (code, zh, en) = Known.TryGetValue(status, out var k) ? k : ("error", "请求失败", "The request failed.");
            problem.Type = Problems.TypePrefix + code;
            problem.Title = zh;
            problem.Detail ??= en;
            problem.Extensions["code"] = code;
        }
        problem.Extensions["requestId"] = context.HttpContext.TraceIdentifier;
    }
}

/// <summary>Maps Kestrel's bad-request errors (malformed body, too large) to their own status instead of 500.</summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad) return false;
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = { Status = bad.StatusCode },
            Exception = exception,
        });
    }
}
