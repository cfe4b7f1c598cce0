// The bare query for bench/open-api and bench/data-api: the API's own SQL, run directly against the same stored table in
// the same PostgreSQL, in a minimal API. Built by each run.sh into a copy of ../shared/bench/cs/api (its csproj, Npgsql),
// with this file as its Program.cs; not part of the Lianqiao build.
//   GET /records   (when FARE is set; bench/open-api) the open records call:
//                  SELECT "_id", <COLUMNS> FROM <TABLE> WHERE ("fare" > $1) AND NOT "_deleted" ORDER BY "_id" LIMIT $2
//                  → {"rows":[{column: value, …}], "count": n, "nextCursor": null}, as the open API answers (without masking, scope or counting)
//   GET /page?cursor=C   (bench/data-api) the data API's keyset page, $limit=LIMIT&cursor=C (C as the API encodes it):
//                  SELECT "_id", <COLUMNS> FROM <TABLE> WHERE NOT "_deleted" AND "_id" > $1 ORDER BY "_id" LIMIT $2
//   GET /page?offset=N   (bench/data-api) the data API's offset page, $limit=LIMIT&$offset=N:
//                  SELECT "_id", <COLUMNS> FROM <TABLE> WHERE NOT "_deleted" ORDER BY "_id" LIMIT $1 OFFSET $2
//                  → both in the same JSON shape, nextCursor included (without grant, masking, audit or counting)
//   GET /sql       the statements above, one per line
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
var keysetSql = select + "WHERE NOT \"_deleted\" AND \"_id\" > $1 ORDER BY \"_id\" LIMIT $2";
var pageSql = select + "WHERE NOT \"_deleted\" ORDER BY \"_id\" LIMIT $1 OFFSET $2";
var ds = NpgsqlDataSource.Create(Env("PG_CONN"));

if (Environment.GetEnvironmentVariable("FARE") is { } fareText)
{
    var fare = decimal.Parse(fareText, System.Globalization.CultureInfo.InvariantCulture);
    var recordsSql = select + "WHERE (\"fare\" > $1) AND NOT \"_deleted\" ORDER BY \"_id\" LIMIT $2";
    app.MapGet("/sql", () => recordsSql + "\n" + pageSql);
    app.MapGet("/records", (HttpContext http) => Answer(http, recordsSql, fare, limit, default, nextCursor: false));
}
else
{
    app.MapGet("/sql", () => keysetSql + "\n" + pageSql);
}
// The data API writes non-ASCII text unescaped (UnsafeRelaxedJsonEscaping); the page does too, so both answers are about the same size.
var relaxed = new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
app.MapGet("/page", (HttpContext http, long? offset, string? cursor) => cursor is null
    ? Answer(http, pageSql, limit, offset ?? 0, relaxed, nextCursor: true)
    : Answer(http, keysetSql, DecodeCursor(cursor), limit, relaxed, nextCursor: true));
app.Run();

// The data API's cursor: base64 of "id:" and the last row id.
static long DecodeCursor(string cursor) => long.Parse(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(cursor))[3..], System.Globalization.CultureInfo.InvariantCulture);
static string EncodeCursor(long id) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("id:" + id.ToString(System.Globalization.CultureInfo.InvariantCulture)));

async Task Answer(HttpContext http, string sql, object first, object second, JsonWriterOptions options, bool nextCursor)
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
    var last = -1L;
    while (await r.ReadAsync())
    {
        last = r.GetInt64(0);
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
    // As the data API: a next cursor when the page is full.
    if (nextCursor && count == limit) json.WriteString("nextCursor", EncodeCursor(last));
    else json.WriteNull("nextCursor");
    json.WriteEndObject();
    await json.FlushAsync();
}
