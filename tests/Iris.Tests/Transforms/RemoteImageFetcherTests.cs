using System.Net;
using Iris.Core.Sources;

namespace Iris.Tests.Transforms;

public class RemoteImageFetcherTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)] // cloud metadata services live here
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("::127.0.0.1", true)] // IPv4-compatible
    [InlineData("64:ff9b::a9fe:a9fe", true)] // NAT64 of 169.254.169.254
    [InlineData("64:ff9b:1::a9fe:a9fe", true)] // local-use NAT64 (RFC 8215)
    [InlineData("2002:7f00:1::", true)] // 6to4 of 127.0.0.1
    [InlineData("0.1.2.3", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("198.18.0.1", true)]
    [InlineData("192.0.0.8", true)]
    [InlineData("64:ff9b::808:808", false)]
    [InlineData("2002:808:808::", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2606:4700::1111", false)]
    public void Private_loopback_and_link_local_addresses_are_recognised(string address, bool isPrivate) =>
        Assert.Equal(isPrivate, RemoteImageFetcher.IsPrivate(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://0.0.0.0/a.jpg")]
    [InlineData("http://0/a.jpg")]
    [InlineData("http://0.0.0.0./a.jpg")]
    [InlineData("http://[::]/a.jpg")]
    [InlineData("http://[::1]/a.jpg")]
    [InlineData("http://[::ffff:127.0.0.1]/a.jpg")]
    [InlineData("http://[::ffff:0.0.0.0]/a.jpg")]
    [InlineData("http://[::127.0.0.1]/a.jpg")]
    [InlineData("http://[fe80::1]/a.jpg")]
    [InlineData("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/")]
    [InlineData("http://localhost/a.jpg")]
    [InlineData("http://localhost./a.jpg")]
    [InlineData("http://LOCALHOST./a.jpg")]
    [InlineData("http://images.localhost/a.jpg")]
    [InlineData("http://127.1/a.jpg")]
    [InlineData("http://2130706433/a.jpg")] // 127.0.0.1 in decimal
    [InlineData("http://0177.0.0.1/a.jpg")] // 127.0.0.1 in octal
    [InlineData("http://0x7f.0.0.1/a.jpg")] // 127.0.0.1 in hex
    [InlineData("http://169.254.169.254./latest/meta-data/")]
    [InlineData("http://0xa9fea9fe/latest/meta-data/")] // 169.254.169.254
    public async Task Unspecified_loopback_link_local_and_disguised_hosts_are_refused_before_any_connection(string url)
    {
        var policy = new RemoteSourcePolicy([], AllowPrivateNetworks: false, TimeSpan.FromSeconds(5), 1_000_000, 3);
        using var client = new HttpClient(RemoteImageFetcher.CreateHandler(policy));
        var fetcher = new RemoteImageFetcher(policy, client);
        var refused = await Assert.ThrowsAsync<SourceNotAllowedException>(() => fetcher.FetchAsync(new Uri(url), CancellationToken.None));
        Assert.Contains("Sources:AllowPrivateNetworks", refused.Message);
    }
}
