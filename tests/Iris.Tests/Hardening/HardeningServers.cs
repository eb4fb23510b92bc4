namespace Iris.Tests.Hardening;

/// <summary>
/// The corpus run and the time-budget tests measure how fast a real server answers, so they run alone: in parallel
/// with each other (or other classes) on a small machine they would measure the thread pool, not Iris.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HardeningServers
{
    public const string Name = "Hardening servers";
}
