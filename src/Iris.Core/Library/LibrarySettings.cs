namespace Iris.Core.Library;

/// <summary>The library's options (Library:*), as the domain reads them.</summary>
/// <param name="IndexTasks">The analysis tasks indexing runs on each image (<c>embed</c>, <c>describe</c>, <c>ocr</c>, <c>detect</c>, <c>face-embed</c> or <c>faces</c>); EXIF, size and the perceptual hash are always kept.</param>
/// <param name="NearDuplicateDistance">Most differing bits of two perceptual hashes that <c>dedupe=true</c> collapses.</param>
/// <param name="MaxK">The most hits one search answers.</param>
public sealed record LibrarySettings(IReadOnlyList<string> IndexTasks, int NearDuplicateDistance = 6, int MaxK = 1000)
{
    /// <summary>The job task that indexes one library image.</summary>
    public const string IndexJobTask = "library_index";
}
