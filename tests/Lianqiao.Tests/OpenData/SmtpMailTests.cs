using System.Net;
using System.Net.Sockets;
using System.Text;
using Lianqiao.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Xunit;

namespace Lianqiao.Tests.OpenData;

/// <summary>
/// A relay that speaks just enough SMTP (RFC 5321: greeting, EHLO, MAIL, RCPT, DATA, QUIT) to receive what the
/// platform sends, over a real socket on loopback.
/// </summary>
public sealed class FakeSmtpRelay : IDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    public int Port { get; }
    public List<(string Recipient, string Data)> Received { get; } = [];

    public FakeSmtpRelay()
    {
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptAsync);
    }

    async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(); }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { return; }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 fake-relay ESMTP");
        var recipient = "";
        while (await reader.ReadLineAsync() is { } line)
        {
            var verb = line.Split(' ', 2)[0].ToUpperInvariant();
            if (verb is "EHLO" or "HELO") await writer.WriteLineAsync("250 fake-relay");
            else if (verb == "RCPT") { recipient = line; await writer.WriteLineAsync("250 OK"); }
            else if (verb == "DATA")
            {
                await writer.WriteLineAsync("354 end with <CRLF>.<CRLF>");
                var data = new StringBuilder();
                while (await reader.ReadLineAsync() is { } l && l != ".") data.Append(l).Append('\n');
                lock (Received) Received.Add((recipient, data.ToString()));
                await writer.WriteLineAsync("250 OK queued");
            }
            else if (verb == "QUIT") { await writer.WriteLineAsync("221 bye"); return; }
            else await writer.WriteLineAsync("250 OK");
        }
    }

    public void Dispose() => listener.Stop();
}

public sealed class SmtpOpenServer : LianqiaoServer
{
    public FakeSmtpRelay Relay { get; } = new();

    protected override void Configure(WebApplicationBuilder builder)
    {
        builder.Configuration["Lianqiao:OpenData:Mail:Mode"] = "smtp";
        builder.Configuration["Lianqiao:OpenData:Mail:Host"] = "127.0.0.1";
        builder.Configuration["Lianqiao:OpenData:Mail:Port"] = Relay.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Configuration["Lianqiao:OpenData:Mail:From"] = "noreply@lianqiao.example";
        builder.Configuration["Lianqiao:OpenData:Mail:UseTls"] = "false";
    }
}

public sealed class SmtpMailTests(SmtpOpenServer server) : IClassFixture<SmtpOpenServer>
{
    [Fact]
    public async Task Registration_mail_goes_out_through_the_configured_smtp_relay()
    {
        using var anonymous = server.Anonymous();
        var response = await anonymous.PostJsonAsync("/open/api/v1/developers", new { email = "smtp-dev@example.org", displayName = "SMTP" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var (recipient, data) = Assert.Single(server.Relay.Received);
        Assert.Contains("smtp-dev@example.org", recipient);
        Assert.Contains("From: noreply@lianqiao.example", data);
        // The body (UTF-8, Chinese and English) arrives transfer-encoded; decoded, it carries the one-time link.
        var separator = data.IndexOf("\n\n", StringComparison.Ordinal);
        var headers = data[..separator];
        var body = data[(separator + 2)..];
        var text = headers.Contains("Content-Transfer-Encoding: base64", StringComparison.OrdinalIgnoreCase)
            ? Encoding.UTF8.GetString(Convert.FromBase64String(body.Replace("\n", "", StringComparison.Ordinal)))
            : headers.Contains("Content-Transfer-Encoding: quoted-printable", StringComparison.OrdinalIgnoreCase)
                ? body.Replace("=\n", "", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal)
                : body;
        Assert.Contains("/open/developer/verify?token=", text);
    }
}
