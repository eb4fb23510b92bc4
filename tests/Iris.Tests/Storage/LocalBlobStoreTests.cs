using Iris.Core.Jobs;
using Iris.Core.Storage;
using Iris.Tests.Support;

namespace Iris.Tests.Storage;

/// <summary>The store contract on local disk (Storage:Provider=local, the default).</summary>
public sealed class LocalBlobStoreTests : BlobStoreContract
{
    private readonly TempDirectory _directory = new();

    protected override Task<(IBlobStore Images, IJobBlobStore JobInputs)> CreateAsync() =>
        Task.FromResult<(IBlobStore, IJobBlobStore)>((new LocalDiskBlobStore(_directory.File("blobs")), new LocalDiskJobBlobStore(_directory.File("inputs"))));

    public override Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}
