using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Lianqiao.Organizations;
using Lianqiao.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace Lianqiao.Tests.Foundation;

/// <summary>Who calls: every role, plus applications, developers and the anonymous public.</summary>
public enum Actor { Anonymous, Admin, Steward, Approver, Auditor, Consumer, App, Developer }

/// <summary>Whether the route's department-scoped parameters point at the caller's own department or another one.</summary>
public enum Scope { Own, Other }

/// <summary>An expectation: which actors may call, and which of them only for their own department.</summary>
public sealed record Access(IReadOnlySet<Actor> Anywhere, IReadOnlySet<Actor> OwnOnly)
{
    public static readonly Actor[] All = Enum.GetValues<Actor>();
    public static Access Nobody => Of();
    public static Access Anyone => new(All.ToHashSet(), new HashSet<Actor>());
    public static Access SignedIn => Of(All.Where(a => a != Actor.Anonymous).ToArray());
    public static Access Members => Of(Actor.Admin, Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App);
    public static Access Admin => Of(Actor.Admin);
    public static Access Auditor => Of(Actor.Auditor);
    public static Access Of(params Actor[] actors) => new(actors.ToHashSet(), new HashSet<Actor>());
    public Access AndOwn(params Actor[] actors) => this with { OwnOnly = OwnOnly.Concat(actors).ToHashSet() };
    public Access Except(params Actor[] actors) => new(Anywhere.Except(actors).ToHashSet(), OwnOnly.Except(actors).ToHashSet());
    public bool Allows(Actor actor, Scope scope) => Anywhere.Contains(actor) || (scope == Scope.Own && OwnOnly.Contains(actor));
}

/// <summary>
/// Enumerates every endpoint of the app and calls it as every actor, for their own and another
/// department. An endpoint without a declared expectation fails the test: new endpoints must say who may call.
/// Modules add their rows to <see cref="Expectations"/>.
/// </summary>
public sealed class AuthorizationMatrixTests(LianqiaoServer server, ITestOutputHelper output) : IClassFixture<LianqiaoServer>
{
    public static readonly Dictionary<string, Access> Expectations = new()
    {
        ["GET /healthz"] = Access.Anyone,
        ["GET /openapi/{documentName}.json"] = Access.Anyone,
        ["GET /scalar/{documentName?}"] = Access.Anyone,
        ["GET /scalar"] = Access.Anyone,
        ["GET /scalar/favicon.svg"] = Access.Anyone,
        ["GET /scalar/scalar.aspnetcore.js"] = Access.Anyone,
        ["GET /scalar/scalar.js"] = Access.Anyone,
        // Blazor's enhanced-navigation redirect helper: the pages use no enhanced navigation, so it stays closed.
        ["GET /_framework/opaque-redirect"] = Access.Nobody,
        ["GET /lang/{culture}"] = Access.Anyone,
        ["GET /login"] = Access.Anyone,
        ["POST /login"] = Access.Anyone,
        ["GET /"] = Access.SignedIn,
        ["POST /"] = Access.SignedIn,
        ["GET /admin"] = Access.Admin,
        ["POST /admin"] = Access.Admin,
        ["GET /audit"] = Access.Auditor,
        ["POST /audit"] = Access.Auditor,
        ["POST /account/login"] = Access.Anyone,
        ["POST /account/logout"] = Access.SignedIn,

        ["GET /api/v1/me"] = Access.SignedIn,
        ["GET /api/v1/me/keys"] = Access.SignedIn,
        ["POST /api/v1/me/keys"] = Access.SignedIn.Except(Actor.App),
        ["GET /api/v1/departments/"] = Access.Members,
        ["GET /api/v1/departments/{id:guid}"] = Access.Members,
        ["POST /api/v1/departments/"] = Access.Admin,
        ["PUT /api/v1/departments/{id:guid}"] = Access.Admin,
        ["GET /api/v1/departments/{departmentId:guid}/users"] = Access.Admin.AndOwn(Actor.Steward),
        ["GET /api/v1/departments/{departmentId:guid}/apps"] = Access.Admin.AndOwn(Actor.Steward),
        ["POST /api/v1/departments/{departmentId:guid}/apps"] = Access.Admin.AndOwn(Actor.Steward),
        ["POST /api/v1/users/"] = Access.Admin,
        ["PUT /api/v1/users/{userId}/roles"] = Access.Admin,
        ["POST /api/v1/users/{userId}/password-reset"] = Access.Admin,
        ["GET /api/v1/apps/{appId:guid}/keys"] = Access.Admin.AndOwn(Actor.Steward),
        ["POST /api/v1/apps/{appId:guid}/keys"] = Access.Admin.AndOwn(Actor.Steward),
        // A key's owner may revoke it too: an application can kill its own leaked key.
        ["DELETE /api/v1/keys/{keyId:guid}"] = Access.Admin.AndOwn(Actor.Steward, Actor.App),

        ["GET /api/v1/code-tables"] = Access.Members,
        ["GET /api/v1/code-tables/{code}"] = Access.Members,
        ["PUT /api/v1/code-tables/{code}/entries/{entryCode}"] = Access.Admin,
        ["DELETE /api/v1/code-tables/{code}/entries/{entryCode}"] = Access.Admin,
        ["GET /api/v1/calendar"] = Access.Members,
        ["PUT /api/v1/calendar/{date}"] = Access.Admin,
        ["GET /api/v1/calendar/deadline"] = Access.Members,
        ["GET /api/v1/audit/"] = Access.Auditor,
        ["GET /api/v1/audit/verify"] = Access.Auditor,
        ["GET /api/v1/audit/export"] = Access.Auditor,
        ["GET /api/v1/jobs"] = Access.Admin,

        // Catalog: metadata of published resources is for every member; department scoping of drafts and edits
        // is per resource (tests/Lianqiao.Tests/Catalog), so the probes here see 404 for a missing slug.
        ["GET /api/v1/catalog/"] = Access.Members,
        ["POST /api/v1/catalog/"] = Access.Of(Actor.Admin, Actor.Steward),
        ["GET /api/v1/catalog/by-code"] = Access.Members,
        ["GET /api/v1/catalog/template"] = Access.Members,
        // Stewards import for their own department (checked per row), admins for any; the probe's JSON body then gets 400.
        ["POST /api/v1/catalog/import"] = Access.Of(Actor.Admin, Actor.Steward),
        ["GET /api/v1/catalog/export"] = Access.Members,
        ["GET /api/v1/catalog/standard-export"] = Access.Members,
        ["GET /api/v1/catalog/review-queue"] = Access.Admin,
        ["GET /api/v1/catalog/{slug}"] = Access.Members,
        ["GET /api/v1/catalog/{slug}/draft"] = Access.Members,
        ["PUT /api/v1/catalog/{slug}"] = Access.Members,
        ["POST /api/v1/catalog/{slug}/submit"] = Access.Members,
        ["POST /api/v1/catalog/{slug}/review"] = Access.Admin,
        ["POST /api/v1/catalog/{slug}/versions"] = Access.Members,
        ["GET /api/v1/catalog/{slug}/versions"] = Access.Members,
        ["GET /api/v1/catalog/{slug}/versions/{version:int}"] = Access.Members,
        ["GET /api/v1/catalog/{slug}/diff"] = Access.Members,
        ["POST /api/v1/catalog/{slug}/retire"] = Access.Members,
        // CKAN-compatible API: open to everyone; what each caller sees is filtered inside.
        ["GET /api/3/action/{action}"] = Access.Anyone,
        ["POST /api/3/action/{action}"] = Access.Anyone,
        ["GET /catalog.jsonld"] = Access.Anyone,
        ["GET /catalog.ttl"] = Access.Anyone,
        ["GET /dataset/{slug}.jsonld"] = Access.Anyone,
        ["GET /catalog"] = Access.Members,
        ["POST /catalog"] = Access.Members,
        ["GET /catalog/{Slug}"] = Access.Members,
        ["POST /catalog/{Slug}"] = Access.Members,
        ["GET /catalog/new"] = Access.Members,
        // The import page tells non-stewards they may not import; the upload itself is refused inside.
        ["GET /catalog/import"] = Access.Members,
        ["POST /catalog/import"] = Access.Members,
        ["POST /catalog/new"] = Access.Members,
        ["GET /catalog/{Slug}/edit"] = Access.Members,
        ["POST /catalog/{Slug}/edit"] = Access.Members,
        ["GET /catalog/review"] = Access.Admin,
        ["POST /catalog/review"] = Access.Admin,
        ["GET /api/v1/grants/"] = Access.Members,
        ["POST /api/v1/grants/{grantId:guid}/revoke"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver),
        // Submitting validates the body before deciding scope; with an empty body every member gets 400, not 403.
        ["POST /api/v1/share-requests/"] = Access.Members,
        ["GET /api/v1/share-requests/"] = Access.Members,
        ["GET /api/v1/share-requests/overdue"] = Access.Admin,
        // Unknown or invisible applications answer 404 to everyone: the matrix probes a random id, so no actor is refused here.
        ["GET /api/v1/share-requests/{id:guid}"] = Access.Members,
        ["POST /api/v1/share-requests/{id:guid}/approve"] = Access.Members,
        ["POST /api/v1/share-requests/{id:guid}/refuse"] = Access.Members,
        ["POST /api/v1/share-requests/{id:guid}/withdraw"] = Access.Members,
        ["POST /api/v1/share-requests/{id:guid}/renew"] = Access.Members,
        ["GET /api/v1/demands/"] = Access.Members,
        ["GET /sharing"] = Access.Members,
        ["POST /sharing"] = Access.Members,
        ["GET /sharing/apply"] = Access.Members,
        ["POST /sharing/apply"] = Access.Members,
        // The preview answers 404 unless the person acts for the consuming department (checked inside, like the API's grants).
        ["GET /sharing/grants/{GrantId:guid}/preview"] = Access.Members,
        ["POST /sharing/grants/{GrantId:guid}/preview"] = Access.Members,
        ["GET /sharing/objections"] = Access.Members,
        ["POST /sharing/objections"] = Access.Members,
        // Objections: raising needs a department holding a grant (the probes have none: 403/404 inside); steps are checked per objection.
        ["POST /api/v1/objections/"] = Access.Members.Except(Actor.Admin),
        ["GET /api/v1/objections/"] = Access.Members,
        ["GET /api/v1/objections/{id:guid}"] = Access.Members,
        ["POST /api/v1/objections/{id:guid}/{step}"] = Access.Members,
        // Rows leave only to principals that hold grants: applications and developers; people's keys get 403 grant-required.
        ["GET /api/v1/data/{resourceId}"] = Access.Of(Actor.App, Actor.Developer),
        ["POST /api/v1/verify/{resourceId}"] = Access.Of(Actor.App, Actor.Developer),
        ["GET /api/v1/catalog/{slug}/quality-rules/"] = Access.Members,
        ["PUT /api/v1/catalog/{slug}/quality-rules/"] = Access.Members,
        // A demand is posted by a department; the platform admin, outside any department, routes rather than posts.
        ["POST /api/v1/demands/"] = Access.Members.Except(Actor.Admin),
        ["POST /api/v1/demands/{id:guid}/route"] = Access.Admin,
        ["POST /api/v1/demands/{id:guid}/answer"] = Access.Members,
        ["GET /datasets"] = Access.Members,
        ["POST /datasets"] = Access.Members,
        ["GET /datasets/{resourceId}"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["POST /datasets/{resourceId}"] = Access.Members,
        ["GET /datasets/{resourceId}/loads/{loadId:guid}"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["POST /datasets/{resourceId}/loads/{loadId:guid}"] = Access.Members,
        ["GET /datasets/{resourceId}/quarantine"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["POST /datasets/{resourceId}/quarantine"] = Access.Members,
        ["POST /datasets/{resourceId}/upload"] = Access.Admin.AndOwn(Actor.Steward),
        // The wizard's preview and run belong to the steward who uploaded (a random token answers 404 to them).
        ["GET /datasets/{resourceId}/uploads/{token}"] = Access.Admin.AndOwn(Actor.Steward),
        ["POST /datasets/{resourceId}/uploads/{token}"] = Access.Members,
        ["POST /datasets/{resourceId}/uploads/{token}/run"] = Access.Admin.AndOwn(Actor.Steward),
        ["GET /api/v1/datasets/"] = Access.Members,
        ["GET /api/v1/datasets/overdue"] = Access.Members,
        ["GET /api/v1/datasets/{resourceId}/schema"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["PUT /api/v1/datasets/{resourceId}/schema"] = Access.Admin.AndOwn(Actor.Steward),
        ["POST /api/v1/datasets/{resourceId}/loads"] = Access.Admin.AndOwn(Actor.Steward),
        ["GET /api/v1/datasets/{resourceId}/loads"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["GET /api/v1/datasets/{resourceId}/loads/{loadId:guid}"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["GET /api/v1/datasets/{resourceId}/quarantine"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["GET /api/v1/datasets/{resourceId}/quarantine/export"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["GET /api/v1/datasets/{resourceId}/quality"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["GET /api/v1/datasets/{resourceId}/rows"] = Access.Admin.AndOwn(Actor.Steward),
        // File resources: the owning department's stewards upload, its members read; others need a file grant (the matrix issues none).
        ["POST /api/v1/datasets/{resourceId}/files/"] = Access.Admin.AndOwn(Actor.Steward),
        ["GET /api/v1/datasets/{resourceId}/files/"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["GET /api/v1/datasets/{resourceId}/files/{version:int}"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["GET /datasets/{resourceId}/files"] = Access.Admin.AndOwn(Actor.Steward, Actor.Approver, Actor.Consumer, Actor.App),
        ["POST /datasets/{resourceId}/files"] = Access.Members,
        ["POST /datasets/{resourceId}/files/upload"] = Access.Admin.AndOwn(Actor.Steward),

        ["GET /api/v1/gateway/services"] = Access.Members,
        ["GET /api/v1/gateway/services/{resourceId}"] = Access.Members,
        ["PUT /api/v1/gateway/services/{resourceId}"] = Access.Admin.AndOwn(Actor.Steward),
        ["GET /api/v1/gateway/services/{resourceId}/versions"] = Access.Admin.AndOwn(Actor.Steward),
        ["GET /api/v1/gateway/services/{resourceId}/stats"] = Access.Admin.AndOwn(Actor.Steward),
        ["GET /api/v1/gateway/allow-list/"] = Access.Admin,
        ["POST /api/v1/gateway/allow-list/"] = Access.Admin,
        ["DELETE /api/v1/gateway/allow-list/{entryId:guid}"] = Access.Admin,
        // Only a service grant opens the gateway, and the matrix issues none: everyone is refused.
        ["GET /gateway/{resourceId}/{**path}"] = Access.Nobody,
        ["POST /gateway/{resourceId}/{**path}"] = Access.Nobody,
        ["PUT /gateway/{resourceId}/{**path}"] = Access.Nobody,
        ["PATCH /gateway/{resourceId}/{**path}"] = Access.Nobody,
        ["DELETE /gateway/{resourceId}/{**path}"] = Access.Nobody,
        ["GET /metrics"] = Access.Admin,
        // The demo sample upstream: public like any upstream, and 404 unless the gateway demo seed ran.
        ["GET /demo-upstream/bus-arrivals/{**path}"] = Access.Anyone,
        ["GET /services"] = Access.Members,
        ["GET /services/{resourceId}"] = Access.Members,
        ["POST /services"] = Access.Members,
        ["GET /services/{resourceId}/edit"] = Access.Members,
        ["POST /services/{resourceId}/edit"] = Access.Members,
        ["GET /my-services"] = Access.Members,
        ["POST /my-services"] = Access.Members,
        ["POST /services/{resourceId}"] = Access.Members,
        // Open data: the public API is anonymous (what each caller sees is filtered inside); developer business needs a developer key.
        ["GET /open/api/v1/stats"] = Access.Anyone,
        ["GET /open/api/v1/datasets"] = Access.Anyone,
        ["GET /open/api/v1/datasets/{id}"] = Access.Anyone,
        ["GET /open/api/v1/datasets/{id}/records"] = Access.Anyone,
        ["GET /open/api/v1/datasets/{id}/export"] = Access.Anyone,
        ["GET /open/api/v1/open-rate"] = Access.Anyone,
        ["GET /open/api/v1/showcase"] = Access.Anyone,
        ["POST /open/api/v1/feedback"] = Access.Anyone,
        ["POST /open/api/v1/developers"] = Access.Anyone,
        ["POST /open/api/v1/developers/verify"] = Access.Anyone,
        ["GET /open/api/v1/me"] = Access.Of(Actor.Developer),
        ["POST /open/api/v1/applications"] = Access.Of(Actor.Developer),
        ["GET /open/api/v1/applications"] = Access.Of(Actor.Developer),
        ["POST /open/api/v1/showcase"] = Access.Of(Actor.Developer),
        // Providers decide open applications per department inside; a random id answers 404 to every member.
        ["GET /api/v1/open-applications/"] = Access.Members,
        ["POST /api/v1/open-applications/{id:guid}/approve"] = Access.Members,
        ["POST /api/v1/open-applications/{id:guid}/refuse"] = Access.Members,
        ["GET /api/v1/open/showcase"] = Access.Admin,
        ["POST /api/v1/open/showcase/{id:guid}/review"] = Access.Admin,
        ["GET /api/v1/open/feedback"] = Access.Admin,
        ["GET /api/v1/open-rate"] = Access.Admin,
        // The public portal's pages: anyone; a page POST without a known form answers 400, not a refusal.
        ["GET /open"] = Access.Anyone,
        ["POST /open"] = Access.Anyone,
        ["GET /open/datasets"] = Access.Anyone,
        ["POST /open/datasets"] = Access.Anyone,
        ["GET /open/datasets/{Id}"] = Access.Anyone,
        ["POST /open/datasets/{Id}"] = Access.Anyone,
        ["GET /open/departments/{Id:guid}"] = Access.Anyone,
        ["POST /open/departments/{Id:guid}"] = Access.Anyone,
        ["GET /open/open-rate"] = Access.Anyone,
        ["POST /open/open-rate"] = Access.Anyone,
        ["GET /open/showcase"] = Access.Anyone,
        ["POST /open/showcase"] = Access.Anyone,
        ["GET /open/api-guide"] = Access.Anyone,
        ["POST /open/api-guide"] = Access.Anyone,
        ["GET /open/feedback"] = Access.Anyone,
        ["POST /open/feedback"] = Access.Anyone,
        ["GET /open/developer"] = Access.Anyone,
        ["POST /open/developer"] = Access.Anyone,
        ["GET /open/developer/verify"] = Access.Anyone,
        ["POST /open/developer/verify"] = Access.Anyone,
        // The mail sink: only in demo or non-production hosts (the page answers 404 elsewhere).
        ["GET /open/dev/mail"] = Access.Anyone,
        ["POST /open/dev/mail"] = Access.Anyone,
        ["GET /admin/open"] = Access.Admin,
        ["POST /admin/open"] = Access.Admin,
        ["GET /open-applications"] = Access.Members,
        ["POST /open-applications"] = Access.Members,
        // Exchange: stewards (their department's, checked inside; a random id answers 404) and platform admins.
        ["GET /api/v1/exchange/connections"] = Access.Of(Actor.Admin, Actor.Steward),
        ["POST /api/v1/exchange/connections"] = Access.Of(Actor.Admin, Actor.Steward),
        ["GET /api/v1/exchange/connections/{connectionId:guid}"] = Access.Of(Actor.Admin, Actor.Steward),
        ["PUT /api/v1/exchange/connections/{connectionId:guid}"] = Access.Of(Actor.Admin, Actor.Steward),
        ["POST /api/v1/exchange/connections/{connectionId:guid}/test"] = Access.Of(Actor.Admin, Actor.Steward),
        ["GET /api/v1/exchange/jobs"] = Access.Of(Actor.Admin, Actor.Steward),
        ["POST /api/v1/exchange/jobs"] = Access.Of(Actor.Admin, Actor.Steward),
        ["GET /api/v1/exchange/jobs/{jobId:guid}"] = Access.Of(Actor.Admin, Actor.Steward),
        ["POST /api/v1/exchange/jobs/{jobId:guid}/preview"] = Access.Of(Actor.Admin, Actor.Steward),
        ["POST /api/v1/exchange/jobs/{jobId:guid}/run"] = Access.Of(Actor.Admin, Actor.Steward),
        ["GET /api/v1/exchange/jobs/{jobId:guid}/runs"] = Access.Of(Actor.Admin, Actor.Steward),
        ["GET /api/v1/exchange/jobs/{jobId:guid}/runs/{runId:guid}"] = Access.Of(Actor.Admin, Actor.Steward),
        ["GET /api/v1/exchange/jobs/{jobId:guid}/receipts"] = Access.Of(Actor.Admin, Actor.Steward),
        // The pages: any member sees its department's jobs (another department's answer "no such job").
        ["GET /exchange"] = Access.Members,
        ["POST /exchange"] = Access.Members,
        ["GET /exchange/jobs/{JobId:guid}"] = Access.Members,
        ["POST /exchange/jobs/{JobId:guid}"] = Access.Members,
    };

    /// <summary>Values for route parameters, by name; the scope picks the caller's own department or another one.</summary>
    async Task<string> ParameterAsync(string route, string name, Actor actor, Scope scope)
    {
        var department = scope == Scope.Own ? server.OwnDepartmentId : server.OtherDepartmentId;
        var appName = scope == Scope.Own ? "t-app" : "t-other-app";
        return name switch
        {
            "id" or "departmentId" or "Id" => department.ToString(),
            "appId" => (await server.AppIdAsync(appName)).ToString(),
            "keyId" => (await FreshAppKeyIdAsync(appName)).ToString(),
            // A user no other probe depends on: PUT roles with an empty body strips its roles.
            "userId" => await server.InScopeAsync(async sp => (await sp.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<User>>().FindByNameAsync("medical-consumer"))!.Id),
            "documentName" => "v1",
            "grantId" or "GrantId" => (await server.GrantIdAsync(scope == Scope.Own ? server.OwnDepartmentId : server.OtherDepartmentId)).ToString(),
            "culture" => "en",
            "step" => "accept",
            // A resource id means a gateway service on gateway routes and a dataset elsewhere.
            "resourceId" when route.Contains("gateway", StringComparison.Ordinal) => await Gateway.GatewayMatrix.ServiceAsync(server, department),
            "resourceId" when route.Contains("/files", StringComparison.Ordinal) => await Datasets.FileTestData.FileResourceAsync(server, scope == Scope.Own ? "matrix-file-own" : "matrix-file-other", department),
            "path" => "x",
            "entryId" => (await Gateway.GatewayMatrix.AllowEntryAsync(server)).ToString(),
            "code" => "share-type",
            "entryCode" => "matrix",
            "date" => "2026-12-26",
            "slug" or "Slug" => "population-basic",
            "action" => "status_show",
            "version" => "1",
            "resourceId" => await MatrixResourceAsync(scope == Scope.Own ? server.OwnDepartmentId : server.OtherDepartmentId),
            "loadId" => Guid.NewGuid().ToString(),
            "token" => Guid.NewGuid().ToString("N"),
            "connectionId" or "jobId" or "JobId" or "runId" => Guid.NewGuid().ToString(),
            _ => throw new InvalidOperationException($"The matrix has no value for route parameter '{name}' (actor {actor}); add one."),
        };
    }

    /// <summary>A dataset resource of the given department (registered once per fixture).</summary>
    async Task<string> MatrixResourceAsync(Guid departmentId)
    {
        var id = departmentId == server.OwnDepartmentId ? "matrix-own" : "matrix-other";
        using var admin = await server.AsAdminAsync();
        var schema = new { name = "矩阵", departmentId, columns = new[] { new { name = "编号", column = "code", type = "C", required = true, key = true } } };
        var response = await System.Net.Http.Json.HttpClientJsonExtensions.PutAsJsonAsync(admin, $"/api/v1/datasets/{id}/schema", schema);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return id;
    }

    async Task<Guid> FreshAppKeyIdAsync(string appName)
    {
        var appId = await server.AppIdAsync(appName);
        using var admin = await server.AsAdminAsync();
        var issued = await (await admin.PostJsonAsync($"/api/v1/apps/{appId}/keys", new { name = "matrix" })).OkJsonAsync<IssuedKeyDto>();
        return issued.Key.Id;
    }

    async Task<HttpClient> ClientAsync(Actor actor) => actor switch
    {
        Actor.Anonymous => server.Anonymous(),
        Actor.Admin => await server.AsAdminAsync(),
        Actor.Steward => await server.AsUserAsync("t-steward"),
        Actor.Approver => await server.AsUserAsync("t-approver"),
        Actor.Auditor => await server.AsUserAsync("t-auditor"),
        Actor.Consumer => await server.AsUserAsync("t-consumer"),
        Actor.App => server.WithKey(await server.AppKeyAsync("t-app")),
        Actor.Developer => server.WithKey(await server.DeveloperKeyAsync()),
        _ => throw new ArgumentOutOfRangeException(nameof(actor)),
    };

    List<(string Method, RouteEndpoint Endpoint)> Endpoints() =>
        server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (m, e)))
            .Where(x => x.m != "OPTIONS" && x.m != "HEAD")
            .ToList();

    static string KeyOf(string method, RouteEndpoint e) => $"{method} /{e.RoutePattern.RawText!.TrimStart('/')}";

    [Fact]
    public void Every_endpoint_declares_who_may_call_it()
    {
        var missing = Endpoints().Select(x => KeyOf(x.Method, x.Endpoint)).Distinct().Where(k => !Expectations.ContainsKey(k)).Order().ToList();
        Assert.True(missing.Count == 0, "Endpoints without an authorization expectation:\n" + string.Join("\n", missing));
    }

    [Fact]
    public async Task Every_endpoint_answers_every_actor_as_declared()
    {
        var failures = new List<string>();
        var checkedCount = 0;
        foreach (var (method, endpoint) in Endpoints().DistinctBy(x => KeyOf(x.Method, x.Endpoint)))
        {
            if (!Expectations.TryGetValue(KeyOf(method, endpoint), out var access)) continue;
            var scoped = endpoint.RoutePattern.Parameters.Count > 0;
            foreach (var actor in Access.All)
            {
                foreach (var scope in scoped ? new[] { Scope.Own, Scope.Other } : [Scope.Own])
                {
                    var path = await PathAsync(endpoint, actor, scope);
                    using var client = await ClientAsync(actor);
                    using var request = new HttpRequestMessage(new HttpMethod(method), path);
                    if (method is "POST" or "PUT" or "PATCH")
                    {
                        // Pages and account endpoints take forms; the API takes JSON.
                        request.Content = path.StartsWith("/api/", StringComparison.Ordinal) || path.StartsWith("/open/api/", StringComparison.Ordinal)
                            ? new StringContent("{}", Encoding.UTF8, "application/json")
                            : new FormUrlEncodedContent(new Dictionary<string, string> { ["probe"] = "1" });
                    }
                    using var response = await client.SendAsync(request);
                    var status = (int)response.StatusCode;
                    // Pages answer an anonymous caller with the cookie challenge: a redirect to the login page carrying ReturnUrl.
                    var denied = status is 401 or 403 || (status == 302 && response.Headers.Location?.ToString().Contains("/login?ReturnUrl=", StringComparison.Ordinal) == true);
                    var expectAllowed = access.Allows(actor, scope);
                    checkedCount++;
                    if (expectAllowed == denied || status >= 500)
                        failures.Add($"{method} {path} as {actor} ({scope}): got {status}, expected {(expectAllowed ? "allowed" : "denied")}");
                }
            }
        }
        output.WriteLine($"{checkedCount} calls checked");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    async Task<string> PathAsync(RouteEndpoint endpoint, Actor actor, Scope scope)
    {
        var raw = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
        var result = raw;
        foreach (Match m in Regex.Matches(raw, @"\{(\*\*)?([A-Za-z]+)[^}]*\}"))
            result = result.Replace(m.Value, Uri.EscapeDataString(await ParameterAsync(raw, m.Groups[2].Value, actor, scope)), StringComparison.Ordinal);
        return result;
    }
}
