namespace Lianqiao.Hosting;

/// <summary>What the CLI (or a test) decides before the host is built.</summary>
public sealed record HostSettings
{
    public string Urls { get; init; } = "http://127.0.0.1:5080";
    public required string DataDirectory { get; init; }
    /// <summary>PostgreSQL connection string; null means the embedded SQLite file in <see cref="DataDirectory"/>.</summary>
    public string? PostgresConnectionString { get; init; }
    public bool Demo { get; init; }
    public string? EnvironmentName { get; init; }

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(PostgresConnectionString);
    public string SqlitePath => Path.Combine(DataDirectory, "lianqiao.db");

    /// <summary>
    /// Resolves the database the way the README documents: --db, then LIANQIAO_DB, then
    /// "database" in DATA/lianqiao.json, so a password need not appear in the process list.
    /// </summary>
    public static HostSettings Resolve(string? dataDirectory, string? db, string? urls = null, bool demo = false)
    {
        var data = Path.GetFullPath(dataDirectory ?? "lianqiao-data");
        var connection = db;
        if (string.IsNullOrWhiteSpace(connection)) connection = Environment.GetEnvironmentVariable("LIANQIAO_DB");
        if (string.IsNullOrWhiteSpace(connection)) connection = ReadConfigFile(data);
        return new HostSettings
        {
            DataDirectory = data,
            PostgresConnectionString = string.IsNullOrWhiteSpace(connection) ? null : connection,
            Urls = urls ?? "http://127.0.0.1:5080",
            Demo = demo,
        };
    }

    static string? ReadConfigFile(string data)
    {
        var file = Path.Combine(data, "lianqiao.json");
        if (!File.Exists(file)) return null;
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
        return doc.RootElement.TryGetProperty("database", out var value) ? value.GetString() : null;
    }
}
