namespace Iris.Core.Tasks;

/// <summary>
/// The task names of a <c>tasks</c> parameter ("detect, OCR,detect"), parsed once: trimmed, lower case, in the order
/// given, without repeats. A job carries it from submission to its worker as a list, never joined and split again.
/// </summary>
public sealed class TaskList : IReadOnlyList<string>
{
    private readonly IReadOnlyList<string> _names;

    private TaskList(IReadOnlyList<string> names) => _names = names;

    public static TaskList Parse(string raw) => Of(raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static TaskList Of(IEnumerable<string> names) => names as TaskList ?? new(names.Select(n => n.Trim().ToLowerInvariant()).Where(n => n.Length > 0).Distinct().ToList());

    public string this[int index] => _names[index];
    public int Count => _names.Count;
    public IEnumerator<string> GetEnumerator() => _names.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    public override string ToString() => string.Join(",", _names);
}
