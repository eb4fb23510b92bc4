namespace Iris.Core.Tasks;

/// <summary>
/// A parameter that cannot be used as sent, whichever door it came through (query string, form, JSON body, job, CLI);
/// the message names it and what would be accepted. The HTTP edge answers it with 400 and the parameter's name.
/// </summary>
public class InvalidParameterException(string message, string parameter) : Exception(message)
{
    public string Parameter { get; } = parameter;
}

/// <summary>The <c>tasks</c> parameter named a task that does not exist.</summary>
public sealed class UnknownTaskException(IReadOnlyCollection<string> unknown, IEnumerable<string> valid)
    : InvalidParameterException(
        $"Unknown task{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} in tasks. Valid tasks: {string.Join(", ", valid)}.",
        "tasks");
