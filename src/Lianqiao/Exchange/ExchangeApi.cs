using Cronos;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Errors;
using Lianqiao.Gateway;
using Lianqiao.Organizations;
using Lianqiao.Sharing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Exchange;

/// <summary>
/// /api/v1/exchange: connections (secrets in, never out), collection and delivery jobs, dry runs, runs on demand, run
/// history and delivery receipts. Stewards manage their own department's; a platform admin manages all. The host
/// allow-list is the platform's one list (/api/v1/gateway/allow-list).
/// </summary>
internal static class ExchangeApi
{
    public static void MapExchangeApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/exchange").WithTags("Exchange").RequireAuthorization(Policies.Member)
            .AddEndpointFilter(async (context, next) =>
            {
                var caller = context.HttpContext.User.Caller();
                return caller.IsAdmin || caller.Is(Roles.Steward)
                    ? await next(context)
                    : Problems.Forbidden("Exchange connections and jobs are managed by department stewards and platform admins.");
            });
        api.MapGet("/connections", ListConnections);
        api.MapPost("/connections", CreateConnection);
        api.MapGet("/connections/{connectionId:guid}", GetConnection);
        api.MapPut("/connections/{connectionId:guid}", UpdateConnection);
        api.MapPost("/connections/{connectionId:guid}/test", TestConnection);
        api.MapGet("/jobs", ListJobs);
        api.MapPost("/jobs", CreateJob);
        api.MapGet("/jobs/{jobId:guid}", GetJob);
        api.MapPost("/jobs/{jobId:guid}/preview", Preview);
        api.MapPost("/jobs/{jobId:guid}/run", Run);
        api.MapGet("/jobs/{jobId:guid}/runs", Runs);
        api.MapGet("/jobs/{jobId:guid}/runs/{runId:guid}", GetRun);
        api.MapGet("/jobs/{jobId:guid}/receipts", Receipts);
    }

    static async Task<Ok<List<ConnectionDto>>> ListConnections(HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var query = db.Set<ExchangeConnection>().AsNoTracking();
        if (!caller.IsAdmin) query = query.Where(c => c.DepartmentId == caller.DepartmentId);
        return TypedResults.Ok((await query.OrderBy(c => c.Name).ToListAsync(ct)).Select(c => c.AsDto()).ToList());
    }

    static async Task<Results<Ok<ConnectionDto>, ProblemHttpResult>> GetConnection(Guid connectionId, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var c = await db.Set<ExchangeConnection>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == connectionId, ct);
        if (c is null) return Problems.NotFound("交换连接", "exchange connection");
        if (!http.User.Caller().ActsFor(c.DepartmentId, Roles.Steward)) return Problems.Forbidden("Only the department's stewards or a platform admin see its connections.");
        return TypedResults.Ok(c.AsDto());
    }

    static async Task<Results<Created<ConnectionDto>, ProblemHttpResult>> CreateConnection(ConnectionInput input, HttpContext http, LianqiaoDb db,
        AllowListCache allowList, ConnectionOpener opener, IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var connection = new ExchangeConnection { Name = "", Kind = "", CreatedAt = time.GetUtcNow(), CreatedBy = caller.Name };
        var problem = await ApplyAsync(connection, input, isNew: true, caller, db, allowList, opener, ct);
        if (problem is not null) return problem;
        db.Add(connection);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "exchange.connection.create", "exchange-connection", connection.Id.ToString(),
            new { connection.Name, connection.Kind, connection.Host, connection.Port, connection.Database, connection.Path, connection.Url, secretSet = connection.ProtectedSecret is not null }), ct);
        return TypedResults.Created($"/api/v1/exchange/connections/{connection.Id}", connection.AsDto());
    }

    static async Task<Results<Ok<ConnectionDto>, ProblemHttpResult>> UpdateConnection(Guid connectionId, ConnectionInput input, HttpContext http, LianqiaoDb db,
        AllowListCache allowList, ConnectionOpener opener, IAuditLog audit, CancellationToken ct)
    {
        var connection = await db.Set<ExchangeConnection>().FirstOrDefaultAsync(x => x.Id == connectionId, ct);
        if (connection is null) return Problems.NotFound("交换连接", "exchange connection");
        var caller = http.User.Caller();
        if (!caller.ActsFor(connection.DepartmentId, Roles.Steward)) return Problems.Forbidden("Only the department's stewards or a platform admin change its connections.");
        var problem = await ApplyAsync(connection, input, isNew: false, caller, db, allowList, opener, ct);
        if (problem is not null) return problem;
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "exchange.connection.update", "exchange-connection", connection.Id.ToString(),
            new { connection.Name, connection.Host, connection.Port, connection.Database, connection.Path, connection.Url, secretChanged = input.Secret is not null }), ct);
        return TypedResults.Ok(connection.AsDto());
    }

    /// <summary>Validates the input (every error at once) and applies it; the secret is encrypted on the way in.</summary>
    static async Task<ProblemHttpResult?> ApplyAsync(ExchangeConnection c, ConnectionInput input, bool isNew, Caller caller, LianqiaoDb db,
        AllowListCache allowList, ConnectionOpener opener, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var kind = isNew ? input.Kind?.Trim().ToLowerInvariant() : c.Kind;
        if (kind == "mariadb") kind = ConnectionKinds.MySql;
        var name = input.Name?.Trim() ?? (isNew ? "" : c.Name);
        var department = isNew ? input.DepartmentId ?? caller.DepartmentId ?? Guid.Empty : c.DepartmentId;
        if (name.Length is 0 or > 200) errors["name"] = ["名称必填且不超过200字 / required, at most 200 characters"];
        if (kind is null || !ConnectionKinds.All.Contains(kind)) errors["kind"] = ["类型须为 postgres、mysql、sqlserver、sqlite、http-json 或 drop-folder / one of " + string.Join(", ", ConnectionKinds.All)];
        if (department == Guid.Empty || !await db.Set<Department>().AnyAsync(d => d.Id == department, ct)) errors["departmentId"] = ["部门不存在 / no such department"];
        else if (!caller.ActsFor(department, Roles.Steward)) return Problems.Forbidden("Stewards create connections for their own department only.");
        var host = input.Host?.Trim() ?? (isNew ? null : c.Host);
        var port = input.Port ?? (isNew ? null : c.Port);
        var path = input.Path?.Trim() ?? (isNew ? null : c.Path);
        var url = input.Url?.Trim() ?? (isNew ? null : c.Url);
        if (kind is not null && ConnectionKinds.Networked.Contains(kind))
        {
            if (string.IsNullOrEmpty(host) || host.Length > 300 || Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown) errors["host"] = ["主机名或 IP 无效 / a host name or IP address is required"];
            else
            {
                var list = await allowList.GetAsync(ct);
                var p = port ?? ConnectionOpener.DefaultPort(kind);
                if (!Uri.TryCreate($"tcp://{(host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host)}:{p}", UriKind.Absolute, out var uri) || !list.AllowsHost(uri))
                    errors["host"] = ["主机不在平台白名单内，请联系平台管理员 / the host is not on the platform's allow-list; ask a platform admin"];
            }
            if (port is < 1 or > 65535) errors["port"] = ["端口须在1到65535之间 / 1 to 65535"];
            if (string.IsNullOrWhiteSpace(input.Database ?? c.Database)) errors["database"] = ["须填写数据库名 / required"];
        }
        if (kind is ConnectionKinds.Sqlite or ConnectionKinds.DropFolder)
        {
            try { path = opener.CheckPath(path); }
            catch (ConnectionRefusedException ex) { errors["path"] = [$"{ex.MessageZh} / {ex.Message}"]; }
        }
        if (kind is ConnectionKinds.HttpJson)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")) errors["url"] = ["须为 http 或 https 地址 / an absolute http or https URL"];
            else if (!(await allowList.GetAsync(ct)).AllowsHost(u)) errors["url"] = ["主机不在平台白名单内 / the host is not on the platform's allow-list"];
        }
        if (input.Secret is { Length: > 1000 }) errors["secret"] = ["不超过1000字符 / at most 1000 characters"];
        if (isNew && errors.Count == 0 && await db.Set<ExchangeConnection>().AnyAsync(x => x.DepartmentId == department && x.Name == name, ct))
            return Problems.Conflict("connection-exists", "同名连接已存在", "The department has a connection of this name already.");
        if (errors.Count > 0) return Problems.Validation(errors);

        c.Name = name;
        c.Kind = kind!;
        c.DepartmentId = department;
        c.Host = ConnectionKinds.Networked.Contains(kind!) ? host : null;
        c.Port = ConnectionKinds.Networked.Contains(kind!) ? port : null;
        c.Database = input.Database?.Trim() ?? c.Database;
        c.UserName = input.UserName?.Trim() ?? c.UserName;
        c.Path = kind is ConnectionKinds.Sqlite or ConnectionKinds.DropFolder ? path : null;
        c.Url = kind is ConnectionKinds.HttpJson ? url : null;
        if (input.Secret is not null) c.ProtectedSecret = input.Secret.Length == 0 ? null : opener.Protect(input.Secret);
        return null;
    }

    static async Task<Results<Ok<ConnectionTestDto>, ProblemHttpResult>> TestConnection(Guid connectionId, HttpContext http, LianqiaoDb db,
        ConnectionOpener opener, IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var c = await db.Set<ExchangeConnection>().FirstOrDefaultAsync(x => x.Id == connectionId, ct);
        if (c is null) return Problems.NotFound("交换连接", "exchange connection");
        if (!http.User.Caller().ActsFor(c.DepartmentId, Roles.Steward)) return Problems.Forbidden("Only the department's stewards or a platform admin test its connections.");
        var result = await opener.TestAsync(c, ct);
        c.LastTestedAt = time.GetUtcNow();
        c.LastTestOk = result.Ok;
        c.LastTestMessage = result.Message.Length > 2000 ? result.Message[..2000] : result.Message;
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "exchange.connection.test", "exchange-connection", c.Id.ToString(), new { result.Ok, result.Message },
            result.Ok ? AuditOutcome.Success : AuditOutcome.Failure), ct);
        return TypedResults.Ok(result);
    }

    static async Task<Ok<List<JobDto>>> ListJobs(HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var query = db.Set<ExchangeJob>().AsNoTracking();
        if (!caller.IsAdmin) query = query.Where(j => j.DepartmentId == caller.DepartmentId);
        return TypedResults.Ok((await query.OrderBy(j => j.Name).ToListAsync(ct)).Select(j => j.AsDto()).ToList());
    }

    static async Task<(ExchangeJob? Job, ProblemHttpResult? Problem)> FindJobAsync(Guid jobId, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var job = await db.Set<ExchangeJob>().AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null) return (null, Problems.NotFound("交换任务", "exchange job"));
        if (!http.User.Caller().ActsFor(job.DepartmentId, Roles.Steward)) return (null, Problems.Forbidden("Only the department's stewards or a platform admin manage its exchange jobs."));
        return (job, null);
    }

    static async Task<Results<Ok<JobDto>, ProblemHttpResult>> GetJob(Guid jobId, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var (job, problem) = await FindJobAsync(jobId, http, db, ct);
        return job is null ? problem! : TypedResults.Ok(job.AsDto());
    }

    static async Task<Results<Created<JobDto>, ProblemHttpResult>> CreateJob(JobInput input, HttpContext http, LianqiaoDb db, ITableSchemaSource schemas,
        ICatalogReader catalog, GrantService grants, ConnectionOpener opener, IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var errors = new Dictionary<string, string[]>();
        var name = input.Name?.Trim() ?? "";
        if (name.Length is 0 or > 200) errors["name"] = ["名称必填且不超过200字 / required, at most 200 characters"];
        if (input.Kind is not (JobKinds.Collect or JobKinds.Deliver)) errors["kind"] = ["类型须为 collect 或 deliver / collect or deliver"];
        var connection = input.ConnectionId is { } cid ? await db.Set<ExchangeConnection>().AsNoTracking().FirstOrDefaultAsync(c => c.Id == cid, ct) : null;
        if (connection is null) errors["connectionId"] = ["连接不存在 / no such connection"];
        if (input.IntervalSeconds is < 10 or > 31_622_400) errors["intervalSeconds"] = ["间隔须在10秒到一年之间 / 10 seconds to a year"];
        if (input.Cron is { Length: > 0 } cron)
        {
            try { CronExpression.Parse(cron); }
            catch (CronFormatException) { errors["cron"] = ["cron 表达式无效（5段：分 时 日 月 周）/ not a 5-field cron expression"]; }
            if (input.IntervalSeconds is not null) errors["cron"] = ["cron 与间隔只能选一个 / give cron or an interval, not both"];
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var job = new ExchangeJob
        {
            Name = name, Kind = input.Kind!, ConnectionId = connection!.Id, ResourceId = input.ResourceId?.Trim() ?? "",
            IntervalSeconds = input.IntervalSeconds, Cron = input.Cron is { Length: > 0 } ? input.Cron : null, Enabled = input.Enabled ?? true,
            CreatedAt = time.GetUtcNow(), CreatedBy = caller.Name,
        };
        var problem = job.Kind == JobKinds.Collect
            ? await CollectAsync(job, input, connection, caller, schemas, opener, ct)
            : await DeliverAsync(job, input, connection, caller, db, catalog, grants, ct);
        if (problem is not null) return problem;
        job.NextRunAt = job.IntervalSeconds is not null || job.Cron is not null ? time.GetUtcNow() : time.GetUtcNow().AddYears(100);
        job.LeaseUntil = DateTimeOffset.UnixEpoch;
        db.Add(job);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "exchange.job.create", "exchange-job", job.Id.ToString(), job.AsDto()), ct);
        return TypedResults.Created($"/api/v1/exchange/jobs/{job.Id}", job.AsDto());
    }

    static async Task<ProblemHttpResult?> CollectAsync(ExchangeJob job, JobInput input, ExchangeConnection connection, Caller caller,
        ITableSchemaSource schemas, ConnectionOpener opener, CancellationToken ct)
    {
        var schema = SchemaRules.IsResourceId(job.ResourceId) ? await schemas.FindAsync(job.ResourceId, ct) : null;
        if (schema is null) return Problems.Validation(new Dictionary<string, string[]> { ["resourceId"] = ["资源不存在或没有信息项 / no such resource with a table schema"] });
        if (!caller.ActsFor(schema.DepartmentId, Roles.Steward)) return Problems.Forbidden("Only the providing department's stewards collect into a resource.");
        if (connection.DepartmentId != schema.DepartmentId && !caller.IsAdmin)
            return Problems.Forbidden("A collection reads the providing department's own systems: the connection must belong to it.");
        job.DepartmentId = schema.DepartmentId;
        job.Mode = input.Mode ?? CollectModes.Snapshot;
        var errors = new Dictionary<string, string[]>();
        if (job.Mode is not (CollectModes.Incremental or CollectModes.Snapshot)) errors["mode"] = ["须为 incremental 或 snapshot / incremental or snapshot"];
        if (!ConnectionKinds.Databases.Contains(connection.Kind))
        {
            if (errors.Count > 0) return Problems.Validation(errors);
            if (job.Mode == CollectModes.Incremental && !schema.KeyColumns.Any())
                return Problems.Validation(new Dictionary<string, string[]> { ["mode"] = ["增量汇聚需要资源有主键 / incremental collection needs key columns"] });
            return null;   // files and APIs carry the resource's own column names; the loader checks their headers
        }
        job.SourceTable = input.SourceTable?.Trim() is { Length: > 0 } t ? t : null;
        job.SourceQuery = input.SourceQuery?.Trim() is { Length: > 0 } q ? q : null;
        if ((job.SourceTable is null) == (job.SourceQuery is null)) errors["sourceTable"] = ["须给出源表或查询之一 / give a source table or a query, one of them"];
        else if (job.SourceTable is not null && !Sql.IsTableName(job.SourceTable)) errors["sourceTable"] = ["表名须为 [模式.]表 的简单标识符 / [schema.]table of plain identifiers"];
        else if (job.SourceQuery is not null && (job.SourceQuery.Length > 8000 || !(job.SourceQuery.StartsWith("select", StringComparison.OrdinalIgnoreCase) || job.SourceQuery.StartsWith("with", StringComparison.OrdinalIgnoreCase)) || job.SourceQuery.Contains(';')))
            errors["sourceQuery"] = ["须为一条 SELECT 查询，不含分号 / one SELECT statement, no semicolons"];
        if (job.Mode == CollectModes.Incremental)
        {
            job.ChangeColumn = input.ChangeColumn?.Trim();
            job.ChangeKind = input.ChangeKind ?? ChangeKinds.Timestamp;
            if (job.ChangeKind is not (ChangeKinds.Timestamp or ChangeKinds.Id)) errors["changeKind"] = ["须为 timestamp 或 id / timestamp or id"];
            if (!Sql.IsIdentifier(job.ChangeColumn)) errors["changeColumn"] = ["增量汇聚须给出变更列 / incremental collection needs a change column"];
        }
        job.OverlapSeconds = input.OverlapSeconds ?? 300;
        if (job.OverlapSeconds is < 0 or > 86_400) errors["overlapSeconds"] = ["须在0到86400之间 / 0 to 86400"];
        if (errors.Count > 0) return Problems.Validation(errors);
        try
        {
            await using var conn = await opener.OpenAsync(connection, ct);
            var source = await Collection.DescribeAsync(conn, connection.Kind, job, ct);
            var mapping = Collection.CheckMapping(source, schema, input.Mapping ?? [], job);
            job.Mapping = System.Text.Json.JsonSerializer.Serialize(mapping, System.Text.Json.JsonSerializerOptions.Web);
            return null;
        }
        catch (JobInvalidException ex)
        {
            return Problems.Of(400, ex.Code, ex.TitleZh, ex.Message, ex.Errors is null ? null : new Dictionary<string, object?> { ["errors"] = ex.Errors });
        }
        catch (ConnectionRefusedException ex)
        {
            return Problems.Of(400, ex.Code, ex.MessageZh, ex.Message);
        }
        catch (System.Data.Common.DbException ex)
        {
            return Problems.Of(400, "source-unavailable", "无法读取源表或查询", "The source could not be read: " + ex.Message);
        }
    }

    static async Task<ProblemHttpResult?> DeliverAsync(ExchangeJob job, JobInput input, ExchangeConnection connection, Caller caller, LianqiaoDb db,
        ICatalogReader catalog, GrantService grants, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var app = input.AppId is { } appId ? await db.Set<ConsumerApp>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == appId, ct) : null;
        if (app is null) return Problems.Validation(new Dictionary<string, string[]> { ["appId"] = ["应用系统不存在 / no such application"] });
        if (!caller.ActsFor(app.DepartmentId, Roles.Steward)) return Problems.Forbidden("Only the application's department's stewards set up deliveries for it.");
        if (connection.DepartmentId != app.DepartmentId && !caller.IsAdmin)
            return Problems.Forbidden("A delivery writes into the consumer's own database: the connection must belong to the application's department.");
        job.DepartmentId = app.DepartmentId;
        job.AppId = app.Id;
        job.Mode = CollectModes.Incremental;
        job.TargetTable = input.TargetTable?.Trim();
        job.BatchSize = input.BatchSize ?? 5000;
        if (!ConnectionKinds.Databases.Contains(connection.Kind)) errors["connectionId"] = ["分发目标须为数据库 / a delivery writes into a database"];
        if (!Sql.IsTargetTable(job.TargetTable) || job.TargetTable == DeliveryRunner.CheckpointTable) errors["targetTable"] = ["表名须为小写字母开头的小写字母、数字或下划线 / a-z first, then a-z 0-9 _"];
        if (job.BatchSize is < 1 or > 100_000) errors["batchSize"] = ["须在1到100000之间 / 1 to 100000"];
        if (await catalog.FindAsync(job.ResourceId, ct) is null) errors["resourceId"] = ["资源不存在 / no such resource"];
        else
        {
            var holder = new Caller(PrincipalKind.Application, app.Id.ToString(), app.Name, app.DepartmentId, new HashSet<string>());
            var grant = await grants.FindActiveAsync(holder, job.ResourceId, GrantKind.Table, ct);
            if (grant is null || grant.VerificationOnly) errors["appId"] = ["该应用没有该资源的有效库表授权 / the application holds no active table grant on the resource"];
        }
        return errors.Count > 0 ? Problems.Validation(errors) : null;
    }

    static async Task<Results<Ok<PreviewDto>, ProblemHttpResult>> Preview(Guid jobId, int? limit, HttpContext http, LianqiaoDb db, CollectionRunner collection,
        TimeProvider time, CancellationToken ct)
    {
        var (job, problem) = await FindJobAsync(jobId, http, db, ct);
        if (job is null) return problem!;
        if (job.Kind != JobKinds.Collect) return Problems.Of(400, "preview-unsupported", "仅汇聚任务支持预览", "Only collection jobs have a dry run.");
        var connection = await db.Set<ExchangeConnection>().AsNoTracking().SingleAsync(c => c.Id == job.ConnectionId, ct);
        try
        {
            return TypedResults.Ok(await collection.PreviewAsync(db, job, connection, time, Math.Clamp(limit ?? 20, 1, 200), ct));
        }
        catch (JobInvalidException ex)
        {
            return Problems.Of(400, ex.Code, ex.TitleZh, ex.Message);
        }
        catch (ConnectionRefusedException ex)
        {
            return Problems.Of(400, ex.Code, ex.MessageZh, ex.Message);
        }
        catch (System.Data.Common.DbException ex)
        {
            return Problems.Of(400, "source-unavailable", "无法读取源表或查询", "The source could not be read: " + ex.Message);
        }
    }

    /// <summary>Starts a run and answers 202 at once with the run (status running) and where to poll it: a run may take minutes.</summary>
    static async Task<Results<Accepted<RunDto>, ProblemHttpResult>> Run(Guid jobId, HttpContext http, LianqiaoDb db, ExchangeRunner runner, CancellationToken ct)
    {
        var (job, problem) = await FindJobAsync(jobId, http, db, ct);
        if (job is null) return problem!;
        var caller = http.User.Caller();
        try
        {
            var run = await runner.StartAsync(jobId, new RunActor("manual", caller.Kind.ToString(), caller.Id, caller.Name), ct);
            return TypedResults.Accepted($"/api/v1/exchange/jobs/{jobId}/runs/{run.Id}", run.AsDto());
        }
        catch (JobBusyException)
        {
            return Problems.Conflict("job-running", "该任务正在运行", "The job is running (on this or another node); try again when it has finished.");
        }
    }

    /// <summary>One run: while it is running, its rows read so far (written about once a second).</summary>
    static async Task<Results<Ok<RunDto>, ProblemHttpResult>> GetRun(Guid jobId, Guid runId, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var (job, problem) = await FindJobAsync(jobId, http, db, ct);
        if (job is null) return problem!;
        var run = await db.Set<ExchangeRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId && r.JobId == jobId, ct);
        return run is null ? Problems.NotFound("运行记录", "exchange run") : TypedResults.Ok(run.AsDto());
    }

    static async Task<Results<Ok<List<RunDto>>, ProblemHttpResult>> Runs(Guid jobId, int? limit, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var (job, problem) = await FindJobAsync(jobId, http, db, ct);
        if (job is null) return problem!;
        var runs = await db.Set<ExchangeRun>().AsNoTracking().Where(r => r.JobId == jobId).OrderByDescending(r => r.Id).Take(Math.Clamp(limit ?? 50, 1, 500)).ToListAsync(ct);
        return TypedResults.Ok(runs.Select(r => r.AsDto()).ToList());
    }

    static async Task<Results<Ok<List<ReceiptDto>>, ProblemHttpResult>> Receipts(Guid jobId, int? limit, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var (job, problem) = await FindJobAsync(jobId, http, db, ct);
        if (job is null) return problem!;
        var receipts = await db.Set<DeliveryReceipt>().AsNoTracking().Where(r => r.JobId == jobId).OrderBy(r => r.ToSeq).ThenBy(r => r.Id)
            .Take(Math.Clamp(limit ?? 500, 1, 5000)).ToListAsync(ct);
        return TypedResults.Ok(receipts.Select(r => r.AsDto()).ToList());
    }
}
