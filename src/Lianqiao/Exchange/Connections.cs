using System.Data.Common;
using System.Net;
using System.Text.RegularExpressions;
using Lianqiao.Gateway;
using Lianqiao.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Lianqiao.Exchange;

public sealed class ExchangeOptions
{
    /// <summary>Folders SQLite files and drop folders must be under; empty means DATA/exchange only.</summary>
    public List<string> FileRoots { get; set; } = [];
    /// <summary>How often the scheduler looks for due exchange jobs.</summary>
    public TimeSpan Tick { get; set; } = TimeSpan.FromSeconds(5);
    public bool Enabled { get; set; } = true;
}

/// <summary>A connection that may not be used as configured: outside the allow-list, outside the file roots, malformed.</summary>
internal sealed class ConnectionRefusedException(string code, string messageZh, string messageEn) : Exception(messageEn)
{
    public string Code { get; } = code;
    public string MessageZh { get; } = messageZh;
}

/// <summary>
/// Opens connections for the exchange, and is the only place that does: decrypts the secret, checks the host against
/// the platform's one allow-list (the gateway's, kept by the platform admin) and dials the address it checked, so a
/// DNS answer cannot change between the check and the connect. Files must sit under the configured exchange roots.
/// </summary>
internal sealed partial class ConnectionOpener(AllowListCache allowList, UpstreamResolver resolver, IDataProtectionProvider protection,
    HostSettings settings, IOptions<ExchangeOptions> options)
{
    IDataProtector Protector => protection.CreateProtector("Lianqiao.Exchange.ConnectionSecret");

    public string Protect(string secret) => Protector.Protect(secret);

    string? Secret(ExchangeConnection c) => c.ProtectedSecret is null ? null : Protector.Unprotect(c.ProtectedSecret);

    public IReadOnlyList<string> FileRoots => options.Value.FileRoots.Count > 0
        ? options.Value.FileRoots.Select(System.IO.Path.GetFullPath).ToList()
        : [System.IO.Path.GetFullPath(System.IO.Path.Combine(settings.DataDirectory, "exchange"))];

    /// <summary>The full path when it is under an exchange root; refused otherwise.</summary>
    public string CheckPath(string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ConnectionRefusedException("path-required", "须填写文件或目录路径", "A path is required for this kind.");
        var full = System.IO.Path.GetFullPath(path);
        if (!FileRoots.Any(r => full.StartsWith(r.TrimEnd('/') + "/", StringComparison.Ordinal)))
            throw new ConnectionRefusedException("path-not-allowed", "路径不在交换目录内", $"The path must be under one of the exchange folders: {string.Join(", ", FileRoots)}.");
        return full;
    }

    /// <summary>The address to dial for a database host: every address the name resolves to must pass the allow-list.</summary>
    async Task<IPAddress> CheckHostAsync(string? host, int port, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(host)) throw new ConnectionRefusedException("host-required", "须填写主机", "A host is required for this kind.");
        var list = await allowList.GetAsync(ct);
        if (!Uri.TryCreate($"tcp://{(host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host)}:{port}", UriKind.Absolute, out var uri) || !list.AllowsHost(uri))
            throw NotAllowed(host);
        IPAddress[] addresses;
        try
        {
            addresses = await resolver.ResolveAsync(host, ct);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new ConnectionRefusedException("host-unknown", "主机名无法解析", $"The host {host} does not resolve: {ex.Message}");
        }
        if (addresses.Length == 0 || addresses.Any(a => !list.AllowsAddress(host, port, a))) throw NotAllowed(host);
        return addresses[0];
    }

    static ConnectionRefusedException NotAllowed(string host) =>
        new("host-not-allowed", "主机不在平台白名单内，请联系平台管理员", $"The host {host} is not on the platform's allow-list; ask a platform admin to add it.");

    public static int DefaultPort(string kind) => kind switch
    {
        ConnectionKinds.Postgres => 5432,
        ConnectionKinds.MySql => 3306,
        ConnectionKinds.SqlServer => 1433,
        _ => 0,
    };

    /// <summary>An open database connection of a database kind.</summary>
    public async Task<DbConnection> OpenAsync(ExchangeConnection c, CancellationToken ct)
    {
        DbConnection connection;
        var port = c.Port ?? DefaultPort(c.Kind);
        switch (c.Kind)
        {
            case ConnectionKinds.Postgres:
            {
                var address = await CheckHostAsync(c.Host, port, ct);
                connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder
                {
                    Host = address.ToString(), Port = port, Database = c.Database, Username = c.UserName, Password = Secret(c),
                    Timeout = 10, CommandTimeout = 0, ApplicationName = "lianqiao-exchange", Pooling = false,
                }.ConnectionString);
                break;
            }
            case ConnectionKinds.MySql:
            {
                var address = await CheckHostAsync(c.Host, port, ct);
                connection = new MySqlConnector.MySqlConnection(new MySqlConnector.MySqlConnectionStringBuilder
                {
                    Server = address.ToString(), Port = (uint)port, Database = c.Database, UserID = c.UserName, Password = Secret(c),
                    ConnectionTimeout = 10, DefaultCommandTimeout = 0, ConvertZeroDateTime = true, AllowUserVariables = false, Pooling = false,
                    AllowLoadLocalInfile = false,
                }.ConnectionString);
                break;
            }
            case ConnectionKinds.SqlServer:
            {
                var address = await CheckHostAsync(c.Host, port, ct);
                // The dialled address is the checked one; the certificate is still checked against the host's name.
                connection = new Microsoft.Data.SqlClient.SqlConnection(new Microsoft.Data.SqlClient.SqlConnectionStringBuilder
                {
                    DataSource = $"{address},{port}", InitialCatalog = c.Database ?? "", UserID = c.UserName ?? "", Password = Secret(c) ?? "",
                    ConnectTimeout = 10, CommandTimeout = 0, HostNameInCertificate = c.Host, Pooling = false,
                }.ConnectionString);
                break;
            }
            case ConnectionKinds.Sqlite:
            {
                var path = CheckPath(c.Path);
                connection = new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
                {
                    DataSource = path, Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadWriteCreate, Pooling = false, DefaultTimeout = 30,
                }.ConnectionString);
                break;
            }
            default:
                throw new ConnectionRefusedException("not-a-database", "该连接不是数据库", $"A {c.Kind} connection has no database to open.");
        }
        try
        {
            await connection.OpenAsync(ct);
            if (connection is Microsoft.Data.Sqlite.SqliteConnection sqlite)
            {
                await using var pragma = sqlite.CreateCommand();
                pragma.CommandText = "PRAGMA busy_timeout = 30000;";
                await pragma.ExecuteNonQueryAsync(ct);
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>An HTTP client that dials only allow-listed addresses (the gateway's dialler), with the connection's token if it has one.</summary>
    public async Task<(HttpMessageInvoker Client, Uri Url, string? Token)> HttpAsync(ExchangeConnection c, CancellationToken ct)
    {
        if (!Uri.TryCreate(c.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new ConnectionRefusedException("url-invalid", "接口地址无效", "The URL must be an absolute http or https address.");
        if (!(await allowList.GetAsync(ct)).AllowsHost(url)) throw NotAllowed(url.Host);
        return (UpstreamClient.Create(allowList, resolver), url, Secret(c));
    }

    /// <summary>"Test connection": opens it and runs the smallest query (or lists the folder, or calls the URL).</summary>
    public async Task<ConnectionTestDto> TestAsync(ExchangeConnection c, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            switch (c.Kind)
            {
                case ConnectionKinds.DropFolder:
                {
                    var path = CheckPath(c.Path);
                    if (!Directory.Exists(path)) return new(false, "目录不存在 / the folder does not exist", clock.ElapsedMilliseconds);
                    var files = Directory.GetFiles(path).Length;
                    return new(true, $"目录可读，{files} 个文件 / folder readable, {files} file(s)", clock.ElapsedMilliseconds);
                }
                case ConnectionKinds.HttpJson:
                {
                    var (client, url, token) = await HttpAsync(c, ct);
                    using var _ = client;
                    using var request = new HttpRequestMessage(HttpMethod.Get, url);
                    if (token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    timeout.CancelAfter(TimeSpan.FromSeconds(15));
                    using var response = await client.SendAsync(request, timeout.Token);
                    var ok = response.IsSuccessStatusCode;
                    return new(ok, $"HTTP {(int)response.StatusCode}", clock.ElapsedMilliseconds);
                }
                default:
                {
                    await using var connection = await OpenAsync(c, ct);
                    await using var cmd = connection.CreateCommand();
                    cmd.CommandText = "SELECT 1";
                    await cmd.ExecuteScalarAsync(ct);
                    return new(true, $"连接成功 / connected ({connection.ServerVersion})", clock.ElapsedMilliseconds);
                }
            }
        }
        catch (ConnectionRefusedException ex)
        {
            return new(false, $"{ex.MessageZh} / {ex.Message}", clock.ElapsedMilliseconds);
        }
        catch (Exception ex) when (ex is DbException or IOException or HttpRequestException or InvalidOperationException or ArgumentException
            or TaskCanceledException or System.Net.Sockets.SocketException or TimeoutException)
        {
            // The driver's own message; connection strings (and so secrets) never appear in them.
            return new(false, "连接失败 / " + ex.Message, clock.ElapsedMilliseconds);
        }
    }
}

/// <summary>Identifier rules and quoting per database kind; every identifier a user names passes <see cref="IsIdentifier"/> first.</summary>
internal static partial class Sql
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_$]{0,62}$")]
    private static partial Regex IdentifierRegex();

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex TargetTableRegex();

    public static bool IsIdentifier(string? name) => name is not null && IdentifierRegex().IsMatch(name);

    /// <summary>A table name, optionally schema-qualified.</summary>
    public static bool IsTableName(string? name) => name is not null && name.Split('.') is { Length: 1 or 2 } parts && parts.All(IsIdentifier);

    /// <summary>Tables we create in a consumer's database: lower case, so every database spells them the same way.</summary>
    public static bool IsTargetTable(string? name) => name is not null && TargetTableRegex().IsMatch(name);

    public static string Q(string kind, string identifier)
    {
        if (!IsIdentifier(identifier)) throw new ArgumentException("Unsafe SQL identifier refused: " + identifier, nameof(identifier));
        return kind switch
        {
            ConnectionKinds.MySql => "`" + identifier + "`",
            ConnectionKinds.SqlServer => "[" + identifier + "]",
            _ => "\"" + identifier + "\"",
        };
    }

    public static string Table(string kind, string name) => string.Join(".", name.Split('.').Select(p => Q(kind, p)));

    public static void Add(DbCommand command, string name, object? value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        command.Parameters.Add(p);
    }
}
