// The bare query for bench/open-api: the open records call's SQL, run directly against the same stored table in the
// same PostgreSQL, in a minimal API. Built by run.sh into a copy of ../shared/bench/cs/api (its csproj, Npgsql), with
// this file as its Program.cs; not part of the Lianqiao build.
//   GET /records   SELECT "_id", <the open columns> FROM <TABLE> WHERE ("fare" > $1) AND NOT "_deleted" ORDER BY "_id" LIMIT $2
//                  → {"rows":[{column: value, …}], "count": n, "nextCursor": null}, as the open API answers (without masking, scope or counting)
// env: ASPNETCORE_URLS, PG_CONN (Npgsql connection string), TABLE (ds_{slug}_v{n}), COLUMNS (comma-separated, in the
// open API's order), FARE (the $where value), LIMIT
using System.Text.Json;
using Npgsql;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

string Env(string name) => Environment.GetEnvironmentVariable(name) ?? throw new InvalidOperationException($"{name} is not set");
var columns = Env("COLUMNS").Split(',');
var fare = decimal.Parse(Env("FARE"), System.Globalization.CultureInfo.InvariantCulture);
var limit = long.Parse(Env("LIMIT"), System.Globalization.CultureInfo.InvariantCulture);
var sql = $"SELECT \"_id\", {string.Join(", ", columns.Select(c => $"\"{c}\""))} FROM \"{Env("TABLE")}\" " +
          "WHERE (\"fare\" > $1) AND NOT \"_deleted\" ORDER BY \"_id\" LIMIT $2";
var ds = NpgsqlDataSource.Create(Env("PG_CONN"));
app.MapGet("/sql", () => sql);
app.MapGet("/records", async (HttpContext http) =>
{
    await using var cmd = ds.CreateCommand(sql);
    cmd.Parameters.Add(new NpgsqlParameter { Value = fare });
    cmd.Parameters.Add(new NpgsqlParameter { Value = limit });
    await using var r = await cmd.ExecuteReaderAsync();
    http.Response.ContentType = "application/json; charset=utf-8";
    await using var json = new Utf8JsonWriter(http.Response.Body);
    json.WriteStartObject();
    json.WriteStartArray("rows");
    var count = 0;
    while (await r.ReadAsync())
    {
        json.WriteStartObject();
        for (var i = 0; i < columns.Length; i++)
        {
            json.WritePropertyName(columns[i]);
            var v = r.GetValue(i + 1);
            switch (v)
            {
                case DBNull: json.WriteNullValue(); break;
                case decimal d: json.WriteNumberValue(d); break;
                case long l: json.WriteNumberValue(l); break;
                default: json.WriteStringValue(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)); break;
            }
        }
        json.WriteEndObject();
        count++;
    }
    json.WriteEndArray();
    json.WriteNumber("count", count);
    json.WriteNull("nextCursor");
    json.WriteEndObject();
    await json.FlushAsync();
});
app.Run();
