namespace Iris.Core.Library.People;

/// <summary>No person has this id (or it is another caller's): 404.</summary>
public sealed class PersonNotFoundException(string id)
    : Exception($"No person has the id '{id}'. GET /v1/people lists them.")
{
    public string Id { get; } = id;
}
