using System.Net;
using System.Net.Sockets;
using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Gateway;

/// <summary>
/// One entry of the platform admin's upstream allow-list: a host name ("api.example.gov.cn", optionally with ":port"),
/// a wildcard domain ("*.example.gov.cn"), an IP address, or a CIDR range ("10.20.0.0/16").
/// </summary>
public sealed class UpstreamAllowEntry
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string Pattern { get; set; }
    public string Note { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";

    public AllowEntryDto AsDto() => new(Id, Pattern, Note, CreatedAt, CreatedBy);
}

public sealed record AllowEntryDto(Guid Id, string Pattern, string Note, DateTimeOffset CreatedAt, string CreatedBy);
public sealed record AllowEntryInput(string? Pattern, string? Note);

internal sealed class UpstreamAllowEntryConfiguration : IEntityTypeConfiguration<UpstreamAllowEntry>
{
    public void Configure(EntityTypeBuilder<UpstreamAllowEntry> b)
    {
        b.ToTable("gateway_allow_list");
        b.Property(e => e.Pattern).HasMaxLength(300);
        b.Property(e => e.Note).HasMaxLength(500);
        b.Property(e => e.CreatedBy).HasMaxLength(200);
        b.HasIndex(e => e.Pattern).IsUnique();
    }
}

/// <summary>A parsed allow-list: answers "may this host be an upstream" and "may this resolved address be dialled".</summary>
internal sealed class AllowList
{
    readonly HashSet<string> hosts = new(StringComparer.OrdinalIgnoreCase);       // "host" or "host:port"
    readonly List<string> wildcardSuffixes = [];                                  // ".example.gov.cn"
    readonly List<(IPAddress Network, int Prefix)> ranges = [];

    public static readonly AllowList Empty = new([]);

    public AllowList(IEnumerable<string> patterns)
    {
        foreach (var p in patterns) Add(p.Trim());
    }

    void Add(string pattern)
    {
        // A bare IP address names one host (like a host name); only a CIDR range opens addresses whatever name led there.
        if (pattern.Contains('/', StringComparison.Ordinal) && TryParseRange(pattern, out var range)) ranges.Add(range);
        else if (IPAddress.TryParse(pattern.Trim('[', ']'), out var ip) && !pattern.Contains("]:", StringComparison.Ordinal)) hosts.Add(ip.ToString());
        else if (pattern.StartsWith("*.", StringComparison.Ordinal)) wildcardSuffixes.Add(pattern[1..].ToLowerInvariant());
        else hosts.Add(pattern.ToLowerInvariant());
    }

    /// <summary>Is the pattern one this list understands? Used to validate what the admin enters.</summary>
    public static bool IsValidPattern(string pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern) || pattern.Length > 300) return false;
        if (TryParseRange(pattern, out _)) return true;
        var host = pattern.StartsWith("*.", StringComparison.Ordinal) ? pattern[2..] : pattern;
        return Uri.CheckHostName(SplitPort(host).Host) != UriHostNameType.Unknown && SplitPort(host).PortOk;
    }

    static (string Host, bool PortOk) SplitPort(string hostPort)
    {
        if (hostPort.StartsWith('[')) return (hostPort, true);
        var colon = hostPort.LastIndexOf(':');
        if (colon < 0 || hostPort.IndexOf(':') != colon) return (hostPort, true);
        return (hostPort[..colon], int.TryParse(hostPort[(colon + 1)..], out var port) && port is > 0 and < 65536);
    }

    static bool TryParseRange(string pattern, out (IPAddress, int) range)
    {
        range = default;
        var slash = pattern.IndexOf('/');
        if (slash < 0)
        {
            if (!IPAddress.TryParse(pattern, out var single) || pattern.Contains(':', StringComparison.Ordinal) && single.AddressFamily == AddressFamily.InterNetwork) return false;
            range = (single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        if (!IPAddress.TryParse(pattern[..slash], out var network) || !int.TryParse(pattern[(slash + 1)..], out var prefix)) return false;
        var max = network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (prefix < 0 || prefix > max) return false;
        range = (network, prefix);
        return true;
    }

    /// <summary>May <paramref name="uri"/>'s host be used as an upstream at all?</summary>
    public bool AllowsHost(Uri uri)
    {
        var host = uri.IdnHost.Trim('[', ']').ToLowerInvariant();
        if (IPAddress.TryParse(host, out var ip)) host = ip.ToString();
        if (hosts.Contains(host) || hosts.Contains($"{host}:{uri.Port}")) return true;
        if (ip is not null) return InRanges(ip);
        return wildcardSuffixes.Any(s => host.EndsWith(s, StringComparison.Ordinal));
    }

    /// <summary>
    /// May the connection dial <paramref name="address"/> for <paramref name="host"/>? Public addresses yes; special ones
    /// (loopback, private, link-local, metadata...) only when the list names exactly that host or a range holding the address.
    /// </summary>
    public bool AllowsAddress(string host, int port, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (!AddressRules.IsSpecial(address)) return true;
        if (InRanges(address)) return true;
        // Wildcards never open special addresses: a name under them could be pointed anywhere by its DNS.
        var name = IPAddress.TryParse(host, out var literal) ? literal.ToString() : host.ToLowerInvariant();
        return hosts.Contains(name) || hosts.Contains($"{name}:{port}");
    }

    bool InRanges(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        foreach (var (network, prefix) in ranges)
        {
            if (AddressRules.InRange(ip, network, prefix)) return true;
        }
        return false;
    }
}

/// <summary>Which addresses are not the public internet.</summary>
internal static class AddressRules
{
    static readonly (IPAddress Network, int Prefix)[] Special =
    [
        (IPAddress.Parse("0.0.0.0"), 8),
        (IPAddress.Parse("10.0.0.0"), 8),
        (IPAddress.Parse("100.64.0.0"), 10),      // CGNAT
        (IPAddress.Parse("127.0.0.0"), 8),
        (IPAddress.Parse("169.254.0.0"), 16),     // link-local, including 169.254.169.254 cloud metadata
        (IPAddress.Parse("172.16.0.0"), 12),
        (IPAddress.Parse("192.0.0.0"), 24),
        (IPAddress.Parse("192.168.0.0"), 16),
        (IPAddress.Parse("198.18.0.0"), 15),
        (IPAddress.Parse("224.0.0.0"), 4),        // multicast
        (IPAddress.Parse("240.0.0.0"), 4),        // reserved and broadcast
        (IPAddress.Parse("::"), 128),
        (IPAddress.Parse("::1"), 128),
        (IPAddress.Parse("fc00::"), 7),           // unique local
        (IPAddress.Parse("fe80::"), 10),          // link-local
        (IPAddress.Parse("ff00::"), 8),           // multicast
        (IPAddress.Parse("64:ff9b::"), 96),       // NAT64 can reach any IPv4, private included
        (IPAddress.Parse("fd00:ec2::254"), 128),  // AWS IPv6 metadata
    ];

    public static bool IsSpecial(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var (network, prefix) in Special)
        {
            if (InRange(address, network, prefix)) return true;
        }
        return false;
    }

    public static bool InRange(IPAddress address, IPAddress network, int prefix)
    {
        if (address.AddressFamily != network.AddressFamily) return false;
        Span<byte> a = stackalloc byte[16];
        Span<byte> n = stackalloc byte[16];
        address.TryWriteBytes(a, out var length);
        network.TryWriteBytes(n, out _);
        for (var i = 0; i < length && prefix > 0; i++, prefix -= 8)
        {
            var mask = prefix >= 8 ? 0xFF : (byte)(0xFF << (8 - prefix));
            if ((a[i] & mask) != (n[i] & mask)) return false;
        }
        return true;
    }
}

/// <summary>The allow-list as every call and connect sees it: re-read from the database at most a second after a change.</summary>
internal sealed class AllowListCache(IServiceScopeFactory scopes, TimeProvider time)
{
    static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    volatile Snapshot? current;
    readonly SemaphoreSlim refresh = new(1, 1);

    sealed record Snapshot(AllowList List, Freshness Freshness);

    /// <summary>The list, read at most <see cref="MaxAge"/> ago; past half of it one call re-reads it while the others go on (<see cref="Freshness"/>).</summary>
    public async ValueTask<AllowList> GetAsync(CancellationToken ct)
    {
        var snap = current;
        if (snap is not null && snap.Freshness.Serves(time.GetUtcNow(), MaxAge)) return snap.List;
        await refresh.WaitAsync(ct);
        try
        {
            // Re-read by another call while this one waited: use that.
            if (current is { } other && other != snap && time.GetUtcNow() - other.Freshness.ReadAt < MaxAge) return other.List;
            var readAt = time.GetUtcNow();
            await using var scope = scopes.CreateAsyncScope();
            var patterns = await scope.ServiceProvider.GetRequiredService<LianqiaoDb>().Set<UpstreamAllowEntry>().AsNoTracking()
                .Select(e => e.Pattern).ToListAsync(ct);
            var list = new AllowList(patterns);
            current = new Snapshot(list, new Freshness(readAt));
            return list;
        }
        finally
        {
            refresh.Release();
        }
    }

    /// <summary>This node sees its own changes at once; other nodes within <see cref="MaxAge"/>.</summary>
    public void Invalidate() => current = null;
}

/// <summary>Resolves upstream host names; a seam so tests can point a name at loopback the way a rebinding DNS would.</summary>
internal class UpstreamResolver
{
    public virtual async ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
}

internal sealed class UpstreamRefusedException(string message) : IOException(message);

/// <summary>
/// The gateway's only way out: connects to an address it resolved and checked itself, so the check and the
/// connection see the same address (DNS rebinding between a check and a connect cannot happen).
/// </summary>
internal static class UpstreamClient
{
    public static HttpMessageInvoker Create(AllowListCache allowList, UpstreamResolver resolver) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ActivityHeadersPropagator = null,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = (context, ct) => ConnectAsync(allowList, resolver, context.DnsEndPoint, ct),
    });

    internal static async ValueTask<Stream> ConnectAsync(AllowListCache allowList, UpstreamResolver resolver, DnsEndPoint endpoint, CancellationToken ct)
    {
        var host = endpoint.Host.Trim('[', ']');
        var addresses = await resolver.ResolveAsync(host, ct);
        var list = await allowList.GetAsync(ct);
        // Every address must pass, not just the one dialled: a name answering both public and private is refused.
        var refused = addresses.FirstOrDefault(a => !list.AllowsAddress(host, endpoint.Port, a));
        if (addresses.Length == 0 || refused is not null)
            throw new UpstreamRefusedException($"Upstream {host} resolves to {refused?.ToString() ?? "nothing"}, which the allow-list does not name.");
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
        }
        throw last ?? new IOException("no address to connect to");
    }
}
