using Iris.Core.Library;

namespace Iris.Contracts;

/// <param name="Distance">dHash bits that differ from the group's first image (from the image asked about, in its own view); 0 for exact.</param>
public sealed record DuplicateMemberResponse(string ImageId, int Distance, string Url);

/// <param name="Kind"><c>exact</c> (same pixels) or <c>near</c> (perceptual hashes within Library:NearDuplicateDistance bits).</param>
public sealed record DuplicateGroupResponse(string Kind, IReadOnlyList<DuplicateMemberResponse> Images);

/// <summary>GET /v1/duplicates: groups, largest first, and the cursor of the next page.</summary>
public sealed record DuplicateGroupsResponse(IReadOnlyList<DuplicateGroupResponse> Groups, string? NextCursor)
{
    public static DuplicateGroupsResponse From(DuplicatePage page, Func<string, string> urlOf) => new(
        page.Groups.Select(g => new DuplicateGroupResponse(g.Kind.ToString().ToLowerInvariant(),
            g.Images.Select(m => new DuplicateMemberResponse(m.ImageId, m.Distance, urlOf(m.ImageId))).ToList())).ToList(),
        page.NextCursor);
}

/// <summary>GET /v1/images/{id}: the image's exact duplicates (ids) and near-duplicates (nearest first, dismissed ones left out).</summary>
public sealed record ImageDuplicatesResponse(IReadOnlyList<string> Exact, IReadOnlyList<DuplicateMemberResponse> Near)
{
    public static ImageDuplicatesResponse From(ImageDuplicates duplicates, Func<string, string> urlOf) => new(
        duplicates.Exact, duplicates.Near.Select(m => new DuplicateMemberResponse(m.ImageId, m.Distance, urlOf(m.ImageId))).ToList());
}
