// The bare query for bench/open-api and bench/data-api: the API's own SQL, run directly against the same stored table in
// the same PostgreSQL, in a minimal API. Built by each run.sh into a copy of ../shared/bench/cs/api (its csproj, Npgsql),
// with this file as its Program.cs; not part of the Lianqiao build.
//   GET /records   (when FARE is set; bench/open-api) the open records call:
//                  SELECT "_id", <COLUMNS> FROM <TABLE> WHERE ("fare" > $1) AND NOT "_deleted" ORDER BY "_id" LIMIT $2
//                  → {"rows":[{column: value, …}], "count": n, "nextCursor": null}, as the open API answers (without masking, scope or counting)
//   GET /page?offset=N   (bench/data-api) the data API's page, $limit=LIMIT&$offset=N:
//                  SELECT "_id", <COLUMNS> FROM <TABLE> WHERE NOT "_deleted" ORDER BY "_id" LIMIT $1 OFFSET $2
//                  → the same JSON shape (without grant, masking, audit or counting)
//   GET /sql       the statements above
// env: ASPNETCORE_URLS, PG_CONN (Npgsql connection string), TABLE (ds_{slug}_v{n}), COLUMNS (comma-separated, in the
// API's order), LIMIT, FARE (optional: the records call's $where value)
using System.Text.Json;
using Npgsql;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

string Env(string name) => Environment.GetEnvironmentVariable(name) ?? throw new InvalidOperationException($"{name} is not set");
var columns = Env("COLUMNS").Split(',');
var limit = long.Parse(Env("LIMIT"), System.Globalization.CultureInfo.InvariantCulture);
var select = $"SELECT \"_id\", {string.Join(", ", columns.Select(c => $"\"{c}\""))} FROM \"{Env("TABLE")}\" ";
var pageSql = select + "WHERE NOT \"_deleted\" ORDER BY \"_id\" LIMIT $1 OFFSET $2";
var ds = NpgsqlDataSource.Create(Env("PG_CONN"));

if (Environment.GetEnvironmentVariable("FARE") is { } fareText)
{
    var fare = decimal.Parse(fareText, System.Globalization.CultureInfo.InvariantCulture);
    var recordsSql = select + "WHERE (\"fare\" > $1) AND NOT \"_deleted\" ORDER BY \"_id\" LIMIT $2";
    app.MapGet("/sql", () => recordsSql + "\n" + pageSql);
    app.MapGet("/records", (HttpContext http) => Answer(http, recordsSql, fare, limit, default));
}
else
{
    app.MapGet("/sql", () => pageSql);
}
// The data API writes non-ASCII text unescaped (UnsafeRelaxedJsonEscaping); the page does too, so both answers are about the same size.
var relaxed = new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
app.MapGet("/page", (HttpContext http, long? offset) => Answer(http, pageSql, limit, offset ?? 0, relaxed));
app.Run();

async Task Answer(HttpContext http, string sql, object first, object second, JsonWriterOptions options)
{
    await using var cmd = ds.CreateCommand(sql);
    cmd.Parameters.Add(new NpgsqlParameter { Value = first });
    cmd.Parameters.Add(new NpgsqlParameter { Value = second });
    await using var r = await cmd.ExecuteReaderAsync();
    http.Response.ContentType = "application/json; charset=utf-8";
    await using var json = new Utf8JsonWriter(http.Response.Body, options);
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
}
