using System.Net.Mail;
using System.Security.Cryptography;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lianqiao.OpenData;

/// <summary>Sends the portal's e-mail (verification and sign-in links).</summary>
public interface IMailSender
{
    Task SendAsync(string to, string subject, string body, CancellationToken ct);
}

/// <summary>Demo and test mode: messages are kept in the database and shown at /open/dev/mail, nothing leaves the machine.</summary>
internal sealed class DatabaseMailSender(LianqiaoDb db, TimeProvider time) : IMailSender
{
    public async Task SendAsync(string to, string subject, string body, CancellationToken ct)
    {
        db.Add(new MailMessage { To = to, Subject = subject, Body = body, CreatedAt = time.GetUtcNow() });
        await db.SaveChangesAsync(ct);
    }
}

/// <summary>
/// Production: plain-text mail through the configured relay (Lianqiao:OpenData:Mail: Host, Port, UserName, Password,
/// From, UseTls = STARTTLS). The framework's SmtpClient is enough for handing one message to a relay; a send that fails
/// throws, so the caller reports it instead of pretending mail went out.
/// </summary>
internal sealed class SmtpMailSender(IOptions<OpenDataOptions> options) : IMailSender
{
    public async Task SendAsync(string to, string subject, string body, CancellationToken ct)
    {
        var mail = options.Value.Mail;
        using var client = new System.Net.Mail.SmtpClient(mail.Host, mail.Port) { EnableSsl = mail.UseTls };
        if (!string.IsNullOrEmpty(mail.UserName)) client.Credentials = new System.Net.NetworkCredential(mail.UserName, mail.Password);
        using var message = new System.Net.Mail.MailMessage(mail.From!, to, subject, body)
        {
            BodyEncoding = System.Text.Encoding.UTF8, SubjectEncoding = System.Text.Encoding.UTF8,
        };
        await client.SendMailAsync(message, ct);
    }
}

public sealed record RegisterInput(string? Email, string? DisplayName);
public sealed record VerifyTokenInput(string? Token);
public sealed record VerifiedDto(Guid DeveloperId, string Email, string DisplayName, IssuedKeyDto Key);

/// <summary>Registration by e-mail: a one-time link proves the address and issues a key; a later link issues another.</summary>
internal sealed class DeveloperAccounts(LianqiaoDb db, IMailSender mail, KeyService keys, IAuditLog audit, TimeProvider time,
    IOptions<OpenDataOptions> options)
{
    static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(24);

    public static Dictionary<string, string[]> Validate(RegisterInput input)
    {
        var errors = new Dictionary<string, string[]>();
        var email = input.Email?.Trim() ?? "";
        if (email.Length is 0 or > 320 || !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email || !email.Contains('.', StringComparison.Ordinal))
            errors["email"] = ["请填写有效的电子邮箱 / enter a valid e-mail address"];
        if (input.DisplayName is { Length: > 100 }) errors["displayName"] = ["名称最多 100 字 / the display name is at most 100 characters"];
        return errors;
    }

    /// <summary>Creates the developer if new and mails a link; the answer is the same whether the address was known, so it reveals nothing.</summary>
    public async Task RegisterAsync(RegisterInput input, string baseUrl, CancellationToken ct)
    {
        var email = input.Email!.Trim().ToLowerInvariant();
        var developer = await db.Set<Developer>().FirstOrDefaultAsync(d => d.Email == email, ct);
        if (developer is null)
        {
            var name = string.IsNullOrWhiteSpace(input.DisplayName) ? email[..email.IndexOf('@', StringComparison.Ordinal)] : input.DisplayName.Trim();
            developer = new Developer { Email = email, DisplayName = name, CreatedAt = time.GetUtcNow() };
            db.Add(developer);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                // The same address registered twice at once: use the row that won.
                db.Entry(developer).State = EntityState.Detached;
                developer = await db.Set<Developer>().FirstAsync(d => d.Email == email, ct);
            }
        }
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var now = time.GetUtcNow();
        db.Add(new DeveloperToken { DeveloperId = developer.Id, Hash = ApiKey.HashOf(secret), CreatedAt = now, ExpiresAt = now + LinkLifetime });
        await db.SaveChangesAsync(ct);
        var link = $"{baseUrl.TrimEnd('/')}/open/developer/verify?token={secret}";
        await mail.SendAsync(email, "连桥开放平台：确认邮箱并获取 API 密钥 / Lianqiao open data: confirm your e-mail",
            $"您好 {developer.DisplayName}：\n\n请在 24 小时内打开以下链接，确认邮箱并获取 API 密钥：\n{link}\n\n" +
            $"Hello {developer.DisplayName},\n\nopen this link within 24 hours to confirm your e-mail and get an API key:\n{link}\n", ct);
        await audit.WriteAsync(new AuditEntry("developer.register") { ActorKind = "Developer", ActorId = developer.Id.ToString(), ActorName = email,
            TargetType = "developer", TargetId = developer.Id.ToString() }, ct);
    }

    /// <summary>Uses a link once: marks the address verified and issues a key; null when the link is unknown, used or expired.</summary>
    public async Task<VerifiedDto?> VerifyAsync(string? token, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 100) return null;
        var hash = ApiKey.HashOf(token.Trim());
        var now = time.GetUtcNow();
        var row = await db.Set<DeveloperToken>().AsNoTracking().FirstOrDefaultAsync(t => t.Hash == hash && t.UsedAt == null, ct);
        if (row is null || row.ExpiresAt <= now) return null;
        // One conditional update: a link clicked twice at once issues one key.
        if (await db.Set<DeveloperToken>().Where(t => t.Id == row.Id && t.UsedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct) != 1)
            return null;
        await db.Set<Developer>().Where(d => d.Id == row.DeveloperId).ExecuteUpdateAsync(s => s.SetProperty(d => d.EmailVerified, true), ct);
        var developer = await db.Set<Developer>().AsNoTracking().FirstAsync(d => d.Id == row.DeveloperId, ct);
        var issued = await keys.IssueAsync(PrincipalKind.Developer, developer.Id.ToString(), "open-portal", TimeSpan.FromDays(options.Value.KeyLifetimeDays),
            new AuditEntry("key.issue") { ActorKind = "Developer", ActorId = developer.Id.ToString(), ActorName = developer.Email }, ct);
        return new VerifiedDto(developer.Id, developer.Email, developer.DisplayName, issued);
    }
}
