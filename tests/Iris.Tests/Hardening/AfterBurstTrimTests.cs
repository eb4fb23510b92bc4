using Iris.Core.Imaging;
using Microsoft.Extensions.Time.Testing;

namespace Iris.Tests.Hardening;

public sealed class AfterBurstTrimTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(5);
    private const long LargeImage = 36_000_000;

    [Fact]
    public void Memory_is_trimmed_once_the_process_stays_quiet_after_a_burst()
    {
        var (admission, trim, time) = Create();
        var leases = Enumerable.Range(0, 4).Select(_ => admission.Admit(LargeImage, outlivesCall: true, CancellationToken.None)).ToList();
        leases.ForEach(l => l.Dispose());
        Assert.Equal(0, trim.Trims);

        time.Advance(Quiet - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, trim.Trims);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, trim.Trims);

        // One trim per burst, not one per quiet period.
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, trim.Trims);
    }

    [Fact]
    public void No_trim_runs_while_decoded_pixels_are_in_flight()
    {
        var (admission, trim, time) = Create();
        var first = admission.Admit(LargeImage, outlivesCall: true, CancellationToken.None);
        var second = admission.Admit(LargeImage, outlivesCall: true, CancellationToken.None);
        first.Dispose();
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, trim.Trims);

        second.Dispose();
        time.Advance(Quiet);
        Assert.Equal(1, trim.Trims);
    }

    [Fact]
    public void A_decode_starting_within_the_quiet_period_postpones_the_trim_until_it_ends()
    {
        var (admission, trim, time) = Create();
        admission.Admit(LargeImage, outlivesCall: true, CancellationToken.None).Dispose();
        time.Advance(Quiet / 2);
        var next = admission.Admit(LargeImage, outlivesCall: true, CancellationToken.None);
        time.Advance(Quiet);
        Assert.Equal(0, trim.Trims);

        next.Dispose();
        time.Advance(Quiet - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, trim.Trims);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, trim.Trims);
    }

    [Fact]
    public void Small_decodes_do_not_trigger_a_full_collection()
    {
        var (admission, trim, time) = Create();
        for (var i = 0; i < 10; i++)
            admission.Admit(1_000_000, outlivesCall: true, CancellationToken.None).Dispose();
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, trim.Trims);
    }

    private static (DecodeAdmission Admission, AfterBurstTrim Trim, FakeTimeProvider Time) Create()
    {
        var time = new FakeTimeProvider();
        var trim = new AfterBurstTrim(Quiet, time);
        return (new DecodeAdmission(1_000_000_000, TimeSpan.Zero, time, trim), trim, time);
    }
}
