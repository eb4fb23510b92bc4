namespace Iris.Core.Storage;

/// <summary>
/// A store's disk (or quota) is full (507 Insufficient Storage): the request was fine, the server cannot keep it.
/// Names the store and the option that places it, so the operator knows what to free or move.
/// </summary>
public sealed class StorageFullException(string store, string option, string location, Exception inner)
    : Exception($"The {store} has no space left ({option} = {location}); free space there or point {option} at a larger disk.", inner)
{
    public string Option { get; } = option;

    /// <summary>ENOSPC or EDQUOT on Unix (.NET carries errno in HResult), ERROR_DISK_FULL or ERROR_HANDLE_DISK_FULL on Windows.</summary>
    public static bool IsDiskFull(IOException e) =>
        e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027);
}
