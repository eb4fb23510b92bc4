using System.Net;
using System.Net.Sockets;
using Iris.Core.Imaging;

namespace Iris.Core.Sources;

/// <summary>Rules for fetching source images by URL.</summary>
/// <param name="PrivateNetworksOption">The option that allows private addresses, for refusals to name.</param>
public sealed record RemoteSourcePolicy(
    IReadOnlyList<string> AllowedHosts, bool AllowPrivateNetworks, TimeSpan Timeout, long MaxBytes, int MaxRedirects,
    string PrivateNetworksOption = "Sources:AllowPrivateNetworks")
{
    /// <summary>Exact host names, or <c>*.example.com</c> for any subdomain; an empty list allows every public host.</summary>
    public bool HostAllowed(string host) =>
        AllowedHosts.Count == 0 || AllowedHosts.Any(pattern => pattern.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase)
            : host.Equals(pattern, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The URL may not be fetched under the configured policy (403).</summary>
public sealed class SourceNotAllowedException(string message) : Exception(message);

/// <summary>The source could not be fetched: the upstream failed, timed out or answered with an error (502/504, or 404 passed on).</summary>
public sealed class SourceFetchException(string message, int status) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Fetches a source image over http(s) under strict limits: scheme, host allow-list, a size cap enforced while reading,
/// a timeout, and redirects followed by hand so every hop is checked again. Addresses are checked where the socket is
/// opened, after DNS resolution, so a public name that resolves to 127.0.0.1 or 10.x (DNS rebinding) is refused too.
/// </summary>
/// <remarks>
/// <paramref name="client"/> must send through <see cref="CreateHandler"/> for the same policy (the host registers it as
/// the primary handler of a named client): the address checks live in that handler.
/// </remarks>
public sealed class RemoteImageFetcher(RemoteSourcePolicy policy, HttpClient client)
{
    private const string UserAgent = "Iris/1.0 (image transform source fetch)";

    /// <summary>
    /// The handler every fetch goes through: redirects are not followed (each hop is checked by hand), bodies are not
    /// decompressed (the size cap counts what arrives), and the connection is opened by <see cref="ConnectAsync"/>.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(RemoteSourcePolicy policy) => new()
    {
        // Through a proxy, the connection checked would be the one to the proxy, which then reaches any address.
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = policy.Timeout,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(policy, context, cancellationToken),
    };

    private readonly HttpClient _client = client;

    public RemoteSourcePolicy Policy { get; } = policy;

    public async Task<byte[]> FetchAsync(Uri url, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Policy.Timeout);
        try
        {
            for (var hop = 0; ; hop++)
            {
                CheckUrl(url);
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Accept.ParseAdd("image/*");
                request.Headers.UserAgent.ParseAdd(UserAgent);
                using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (hop >= Policy.MaxRedirects)
                        throw new SourceFetchException($"The source URL redirected more than {Policy.MaxRedirects} times (Sources:MaxRedirects).", 502);
                    url = location.IsAbsoluteUri ? location : new Uri(url, location);
                    continue;
                }
                if (response.StatusCode == HttpStatusCode.NotFound)
                    throw new SourceFetchException($"The source URL answered 404 Not Found: {Describe(url)}.", 404);
                if (!response.IsSuccessStatusCode)
                    throw new SourceFetchException($"The source URL answered {(int)response.StatusCode} {response.ReasonPhrase}: {Describe(url)}.", 502);
                if (response.Content.Headers.ContentLength is { } declared && declared > Policy.MaxBytes)
                    throw new ImageTooLargeException(declared, Policy.MaxBytes);
                return await ReadCappedAsync(await response.Content.ReadAsStreamAsync(deadline.Token), deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SourceFetchException($"Fetching the source URL took longer than {Policy.Timeout.TotalMilliseconds:N0} ms (Sources:TimeoutMs).", 504);
        }
        catch (HttpRequestException e) when (e.InnerException is SourceNotAllowedException denied)
        {
            throw denied;
        }
        catch (HttpRequestException e)
        {
            throw new SourceFetchException($"The source URL could not be fetched: {e.Message}", 502);
        }
    }

    private void CheckUrl(Uri url)
    {
        if (url.Scheme is not ("http" or "https"))
            throw new SourceNotAllowedException($"Only http and https source URLs are fetched; got '{url.Scheme}:'.");
        // "localhost." and "example.com." are the same hosts as without the root label's dot.
        var host = url.IdnHost.TrimEnd('.');
        if (!Policy.HostAllowed(host))
            throw new SourceNotAllowedException($"The host '{url.IdnHost}' is not in Sources:AllowedHosts.");
        if (!Policy.AllowPrivateNetworks && IsPrivateHost(host)) throw Refused(Policy, url.IdnHost);
    }

    /// <summary>
    /// A host known to be private without resolving it: an address literal in a private range, or a name under
    /// <c>localhost</c>. Refused before any request, not only where the socket opens: the resolver rejects 0.0.0.0 and
    /// :: outright, and a name under .localhost never leaves the machine (RFC 6761), whatever the resolver would answer.
    /// </summary>
    public static bool IsPrivateHost(string host)
    {
        host = host.TrimEnd('.');
        return IPAddress.TryParse(host.Trim('[', ']'), out var literal) && IsPrivate(literal)
            || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
    }

    private static SourceNotAllowedException Refused(RemoteSourcePolicy policy, string host) => new(
        $"The host '{host}' is or resolves to a private, loopback, link-local or unspecified address; such addresses are refused unless {policy.PrivateNetworksOption} is true.");

    private async Task<byte[]> ReadCappedAsync(Stream body, CancellationToken cancellationToken)
    {
        await using (body)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > Policy.MaxBytes)
                    throw new ImageTooLargeException(buffer.Length, Policy.MaxBytes);
            }
            return buffer.ToArray();
        }
    }

    private static async ValueTask<Stream> ConnectAsync(RemoteSourcePolicy policy, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        // An address literal is used as it is: Dns.GetHostAddressesAsync throws on 0.0.0.0 and ::.
        var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        var allowed = addresses.Where(a => policy.AllowPrivateNetworks || !IsPrivate(a)).ToArray();
        if (allowed.Length == 0) throw Refused(policy, context.DnsEndPoint.Host);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loopback, RFC 1918, link-local, CGNAT, benchmarking, unique-local IPv6, multicast, broadcast and unspecified
    /// addresses, including IPv4 addresses carried inside IPv6 (mapped <c>::ffff:a.b.c.d</c>, compatible <c>::a.b.c.d</c>,
    /// NAT64 <c>64:ff9b::a.b.c.d</c> and 6to4 <c>2002:AABB:CCDD::</c>), which reach the same hosts, and the local-use
    /// NAT64 prefix <c>64:ff9b:1::/48</c>.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] is 0 or 10 or 127 || b[0] >= 224
                || b[0] == 169 && b[1] == 254
                || b[0] == 172 && b[1] is >= 16 and <= 31
                || b[0] == 192 && b[1] == 168
                || b[0] == 192 && b[1] == 0 && b[2] == 0
                || b[0] == 198 && b[1] is 18 or 19
                || b[0] == 100 && b[1] is >= 64 and <= 127;
        }
        var bytes = address.GetAddressBytes();
        // ::/96 holds :: (unspecified), ::1 (loopback) and the deprecated IPv4-compatible addresses.
        if (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0) return true;
        if (bytes is [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, ..])
            return IsPrivate(new IPAddress(bytes.AsSpan(12, 4)));
        // 64:ff9b:1::/48 is NAT64 for local use only (RFC 8215): whatever it translates to is inside some network.
        if (bytes is [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01, ..]) return true;
        if (bytes is [0x20, 0x02, ..])
            return IsPrivate(new IPAddress(bytes.AsSpan(2, 4)));
        return IPAddress.IsLoopback(address) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
            || (bytes[0] & 0xFE) == 0xFC;
    }

    private static string Describe(Uri url) => $"{url.Scheme}://{url.Authority}{url.AbsolutePath}";
}
