using Iris.Core.Telemetry;

namespace Iris.Core.Imaging;

/// <summary>
/// A process-wide budget of decoded pixels in flight. Each decode asks for its image's pixels before libvips touches
/// them; when the budget is spent it waits up to the admission wait for others to finish, then is shed with
/// <see cref="DecodeCapacityExceededException"/> (503 with Retry-After at the HTTP edge), so a burst of large images
/// queues briefly and is then refused instead of taking the process's memory with it.
/// </summary>
/// <remarks>
/// A lease normally ends when its decode returns. Inside a <see cref="BeginScope"/> (one HTTP request) it lasts until
/// the scope ends, because the decoded pixels live as long as the request that holds them.
/// </remarks>
public sealed class DecodeAdmission
{
    private static readonly AsyncLocal<Scope?> CurrentScope = new();

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly AfterBurstTrim? _afterBurst;
    private long _inFlight;
    // Completed and replaced on every release, so async waiters wake up and try again without holding a thread.
    private TaskCompletionSource _released = NewReleaseSignal();

    public DecodeAdmission(long maxPixelsInFlight, TimeSpan wait, TimeProvider? time = null, AfterBurstTrim? afterBurst = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixelsInFlight, 1);
        MaxPixelsInFlight = maxPixelsInFlight;
        Wait = wait;
        _time = time ?? TimeProvider.System;
        _afterBurst = afterBurst;
    }

    /// <summary>No budget: every decode is admitted at once (tools and tests that decode one image at a time).</summary>
    public static DecodeAdmission Unlimited { get; } = new(long.MaxValue, TimeSpan.Zero);

    public long MaxPixelsInFlight { get; }
    public TimeSpan Wait { get; }

    public long PixelsInFlight
    {
        get { lock (_gate) return _inFlight; }
    }

    /// <summary>
    /// Sizes the budget from the memory the process may use: a quarter of it, at 8 bytes per admitted pixel (measured
    /// peak of a PNG decode plus its RGB result is ~5 bytes per pixel), and never below one image at the pixel limit.
    /// </summary>
    public static long BudgetFromMemory(long availableBytes, long maxPixels) => Math.Max(maxPixels, availableBytes / 4 / 8);

    /// <summary>Everything decoded inside the scope keeps its lease until the scope is disposed.</summary>
    public IDisposable BeginScope()
    {
        var scope = new Scope(CurrentScope.Value);
        CurrentScope.Value = scope;
        return scope;
    }

    /// <summary>
    /// Takes <paramref name="pixels"/> from the budget (an image larger than the whole budget takes all of it, so it
    /// still runs alone), waiting up to <see cref="Wait"/>. Blocks the calling thread while it waits: for synchronous callers
    /// (the CLI, a transform already on its own thread); requests use <see cref="AdmitAsync"/>.
    /// <paramref name="outlivesCall"/>: the pixels stay alive after the call (a decoded image), so an enclosing scope
    /// keeps the lease; a transform, whose pixels are gone once it has encoded, leaves it to be ended by Dispose.
    /// </summary>
    public Lease Admit(long pixels, bool outlivesCall, CancellationToken cancellationToken)
    {
        var wanted = Math.Clamp(pixels, 1, MaxPixelsInFlight);
        var started = _time.GetTimestamp();
        lock (_gate)
        {
            while (_inFlight + wanted > MaxPixelsInFlight)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var left = Wait - _time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                    throw Shed(pixels);
                // Woken by every release; short slices so a cancelled request does not sit out the whole wait.
                Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
            }
            Take(wanted);
        }
        return Admitted(wanted, outlivesCall);
    }

    /// <summary>
    /// <see cref="Admit"/> for asynchronous callers: the wait for room holds no thread, so a burst of requests queued
    /// behind the budget does not starve the thread pool that serves everyone else.
    /// </summary>
    public async ValueTask<Lease> AdmitAsync(long pixels, bool outlivesCall, CancellationToken cancellationToken)
    {
        var wanted = Math.Clamp(pixels, 1, MaxPixelsInFlight);
        var started = _time.GetTimestamp();
        while (true)
        {
            Task released;
            lock (_gate)
            {
                if (_inFlight + wanted <= MaxPixelsInFlight)
                {
                    Take(wanted);
                    break;
                }
                released = _released.Task;
            }
            cancellationToken.ThrowIfCancellationRequested();
            var left = Wait - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
                throw Shed(pixels);
            try
            {
                await released.WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Checked once more under the lock: the release may have come just as the wait ended.
            }
        }
        return Admitted(wanted, outlivesCall);
    }

    private void Take(long wanted)
    {
        _inFlight += wanted;
        _afterBurst?.Admitted(wanted);
    }

    private Lease Admitted(long wanted, bool outlivesCall)
    {
        IrisMetrics.DecodesAdmitted.Add(1);
        IrisMetrics.DecodePixelsInFlight.Add(wanted);
        var lease = new Lease(this, wanted);
        if (outlivesCall) CurrentScope.Value?.Hold(lease);
        return lease;
    }

    private DecodeCapacityExceededException Shed(long pixels)
    {
        IrisMetrics.DecodesShed.Add(1);
        lock (_gate) return new DecodeCapacityExceededException(pixels, _inFlight, MaxPixelsInFlight);
    }

    private static TaskCompletionSource NewReleaseSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Release(long pixels)
    {
        TaskCompletionSource released;
        lock (_gate)
        {
            _inFlight -= pixels;
            Monitor.PulseAll(_gate);
            released = _released;
            _released = NewReleaseSignal();
            if (_inFlight == 0) _afterBurst?.Drained();
        }
        released.SetResult();
        IrisMetrics.DecodePixelsInFlight.Add(-pixels);
    }

    /// <summary>Pixels taken from the budget. Disposing ends it unless a scope holds it; then the scope's end does.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly DecodeAdmission _owner;
        private readonly long _pixels;
        private int _held;
        private int _released;

        internal Lease(DecodeAdmission owner, long pixels)
        {
            _owner = owner;
            _pixels = pixels;
        }

        internal void MarkHeld() => Interlocked.Exchange(ref _held, 1);

        public void Dispose()
        {
            if (Volatile.Read(ref _held) == 0) ReleaseNow();
        }

        internal void ReleaseNow()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) _owner.Release(_pixels);
        }
    }

    private sealed class Scope(Scope? parent) : IDisposable
    {
        private readonly List<Lease> _leases = [];

        public void Hold(Lease lease)
        {
            lease.MarkHeld();
            lock (_leases) _leases.Add(lease);
        }

        public void Dispose()
        {
            CurrentScope.Value = parent;
            Lease[] leases;
            lock (_leases)
            {
                leases = [.. _leases];
                _leases.Clear();
            }
            foreach (var lease in leases) lease.ReleaseNow();
        }
    }
}

/// <summary>Too many pixels are being decoded at once; the same request can succeed a moment later.</summary>
public sealed class DecodeCapacityExceededException(long pixels, long inFlight, long budget)
    : Exception($"The server is decoding {inFlight:N0} pixels already; this image's {pixels:N0} more would exceed the budget of " +
                $"{budget:N0} (Images:MaxInFlightPixels). Retry after a moment.");
