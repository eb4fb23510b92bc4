using Iris.Core.Imaging;
using Iris.Tests.Support;

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
}
