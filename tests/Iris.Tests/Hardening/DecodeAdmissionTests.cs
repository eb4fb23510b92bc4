using Iris.Core.Imaging;
using Iris.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Iris.Tests.Hardening;

public sealed class DecodeAdmissionTests
{
    [Fact]
    public void A_decode_past_the_budget_is_shed_when_no_room_comes_within_the_wait()
    {
        var admission = new DecodeAdmission(100, TimeSpan.Zero);
        using var first = admission.Admit(80, outlivesCall: true, CancellationToken.None);
        var error = Assert.Throws<DecodeCapacityExceededException>(() => admission.Admit(30, outlivesCall: true, CancellationToken.None));
        Assert.Contains("Images:MaxInFlightPixels", error.Message);
        Assert.Equal(80, admission.PixelsInFlight);
    }

    [Fact]
    public async Task A_waiting_decode_is_admitted_when_another_ends()
    {
        var admission = new DecodeAdmission(100, TimeSpan.FromMinutes(1));
        var first = admission.Admit(100, outlivesCall: true, CancellationToken.None);
        var waiting = Task.Run(() => admission.Admit(50, outlivesCall: true, CancellationToken.None));
        Assert.False(waiting.IsCompleted);
        first.Dispose();
        using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(50, admission.PixelsInFlight);
    }

    [Fact]
    public void An_image_larger_than_the_whole_budget_still_runs_alone()
    {
        var admission = new DecodeAdmission(100, TimeSpan.Zero);
        using (admission.Admit(1_000_000, outlivesCall: true, CancellationToken.None))
            Assert.Equal(100, admission.PixelsInFlight);
        Assert.Equal(0, admission.PixelsInFlight);
    }

    [Fact]
    public void Inside_a_scope_a_decoded_image_keeps_its_pixels_counted_until_the_scope_ends()
    {
        var admission = new DecodeAdmission(1_000_000, TimeSpan.Zero);
        var decoder = new ImageDecoder(ImageLimits.Default, admission);
        using var pattern = TestImages.Pattern(32, 24);
        var png = TestImages.Encode(pattern, ".png");
        using (admission.BeginScope())
        {
            decoder.Decode(png);
            Assert.Equal(32 * 24, admission.PixelsInFlight);
        }
        Assert.Equal(0, admission.PixelsInFlight);
        decoder.Decode(png);
        Assert.Equal(0, admission.PixelsInFlight);
    }

    [Fact]
    public async Task Many_async_waiters_hold_no_thread_and_are_admitted_as_room_comes()
    {
        var admission = new DecodeAdmission(100, TimeSpan.FromMinutes(1));
        var holder = admission.Admit(100, outlivesCall: false, CancellationToken.None);

        // Started one after another on this thread: were a wait to block, the second would never be started.
        var waiters = Enumerable.Range(0, 64)
            .Select(_ => admission.AdmitAsync(100, outlivesCall: false, CancellationToken.None).AsTask())
            .ToList();
        Assert.All(waiters, w => Assert.False(w.IsCompleted));

        holder.Dispose();
        var admitted = 0;
        while (waiters.Count > 0)
        {
            var next = await Task.WhenAny(waiters).WaitAsync(TimeSpan.FromSeconds(30));
            waiters.Remove(next);
            // The budget fits one at a time, so the rest are still waiting until this one ends.
            Assert.All(waiters, w => Assert.False(w.IsCompleted));
            (await next).Dispose();
            admitted++;
        }
        Assert.Equal(64, admitted);
        Assert.Equal(0, admission.PixelsInFlight);
    }

    [Fact]
    public async Task An_async_waiter_is_shed_when_no_room_comes_within_the_wait()
    {
        var time = new FakeTimeProvider();
        var admission = new DecodeAdmission(100, TimeSpan.FromSeconds(2), time);
        using var holder = admission.Admit(100, outlivesCall: false, CancellationToken.None);
        var waiting = admission.AdmitAsync(50, outlivesCall: false, CancellationToken.None).AsTask();

        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<DecodeCapacityExceededException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(100, admission.PixelsInFlight);
    }

    [Fact]
    public async Task A_cancelled_async_waiter_stops_waiting_and_takes_nothing()
    {
        var admission = new DecodeAdmission(100, TimeSpan.FromMinutes(1));
        using var holder = admission.Admit(100, outlivesCall: false, CancellationToken.None);
        using var gone = new CancellationTokenSource();
        var waiting = admission.AdmitAsync(50, outlivesCall: false, gone.Token).AsTask();
        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(100, admission.PixelsInFlight);
    }

    [Fact]
    public async Task DecodeAsync_inside_a_scope_keeps_its_pixels_counted_until_the_scope_ends()
    {
        var admission = new DecodeAdmission(1_000_000, TimeSpan.Zero);
        var decoder = new ImageDecoder(ImageLimits.Default, admission);
        using var pattern = TestImages.Pattern(32, 24);
        var png = TestImages.Encode(pattern, ".png");
        using (admission.BeginScope())
        {
            var image = await decoder.DecodeAsync(png);
            Assert.Equal((32, 24), (image.Width, image.Height));
            Assert.Equal(32 * 24, admission.PixelsInFlight);
        }
        Assert.Equal(0, admission.PixelsInFlight);
    }
}
