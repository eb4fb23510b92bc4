using Iris.Configuration;
using Iris.Core.Jobs;
using Iris.Jobs;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Jobs;

/// <summary>
/// Where a webhook's socket opens, the same address policy as for source URLs: a private address is refused there, so
/// a callback_url that got past the check at submission (a name that resolves to one) still reaches nothing inside.
/// </summary>
public sealed class WebhookAddressPolicyTests
{
    private static async Task<string?> SendAsync(bool allowPrivateNetworks, string url)
    {
        var options = IrisConfiguration.Load(IrisConfiguration.Build(overrides:
            [KeyValuePair.Create("Jobs:WebhookAllowPrivateNetworks", (string?)(allowPrivateNetworks ? "true" : "false"))]));
        await using var services = new ServiceCollection().AddIrisHttpClients(options).BuildServiceProvider();
        var sender = new JobWebhookSender(services.GetRequiredService<IHttpClientFactory>());
        var now = DateTimeOffset.UtcNow;
        var job = new Job { Id = Job.NewId(), Tasks = ["echo"], InputRef = "input", CreatedAt = now, UpdatedAt = now, Status = JobStatus.Done };
        var delivery = new WebhookDelivery { Id = "delivery-1", JobId = job.Id, Url = url, Event = "job.done", Attempts = 1 };
        return await sender.SendAsync(delivery, job, "webhook-secret", CancellationToken.None);
    }

    [Fact]
    public async Task A_delivery_to_a_loopback_receiver_is_refused_where_the_socket_opens_unless_private_networks_are_allowed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();

        var refused = await SendAsync(allowPrivateNetworks: false, receiver.Url);
        Assert.NotNull(refused);
        Assert.Contains("Jobs:WebhookAllowPrivateNetworks", refused);
        Assert.Empty(receiver.Requests);

        Assert.Null(await SendAsync(allowPrivateNetworks: true, receiver.Url));
        Assert.Single(receiver.Requests);
    }
}
