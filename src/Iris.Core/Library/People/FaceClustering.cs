using System.Numerics.Tensors;

namespace Iris.Core.Library.People;

/// <summary>The options of people clustering (Library:People:*).</summary>
/// <param name="Threshold">
/// Least cosine similarity of two faces' descriptors (or of a face and a person's centroid) for them to be one person.
/// faceres descriptors of one person measure 0.83–0.93 and of different people 0.24–0.60 on the mirror's test faces
/// (models/faceres README), so 0.70 sits in the gap with room on both sides.
/// </param>
/// <param name="MinFaces">Fewest faces a new (unnamed) person forms from; smaller groups wait unassigned for more photos.</param>
/// <param name="ClusterOnIndex">Whether indexing an image with faces runs clustering (coalesced: one pass per burst).</param>
public sealed record PeopleSettings(float Threshold = 0.70f, int MinFaces = 3, bool ClusterOnIndex = true);

/// <summary>What one clustering pass changed: the change to apply, and its counts.</summary>
public sealed record ClusteringPlan(PeopleChange Change, int Created, int Removed, int Assigned, int Unassigned, int People);

/// <summary>
/// Groups the faces of one owner into people, in three steps over L2-normalised descriptors (dot product = cosine):
/// <list type="number">
/// <item><b>Repair.</b> Faces a user placed stay where they are. An automatically placed face leaves its person when a
/// user separated it from that person, or when another face of the same photo is in the person already (the
/// user-placed one, else the one nearest the centroid): two faces of one photo are never one person.</item>
/// <item><b>Assign.</b> Each face without a person joins the person whose centroid (mean descriptor, normalised) is
/// most similar, if at least <see cref="PeopleSettings.Threshold"/>, unless a user separated it from that person or
/// the person already has a face from its photo. Pairs are taken best first, so the order of faces does not matter.</item>
/// <item><b>Group.</b> The faces still without a person are grouped by greedy average-linkage agglomeration: pairs
/// at least the threshold apart, best first, join their groups when the groups' mean pairwise similarity
/// (Σa·Σb / |A||B|) is at least the threshold and they share no photo (cannot-link). A group of at least
/// <see cref="PeopleSettings.MinFaces"/> faces becomes a new, unnamed person; smaller ones wait for more photos.</item>
/// </list>
/// Existing people keep their ids and names: a pass never dissolves, merges or renames a person. An unnamed person
/// left with no face is removed; a named one stays, even empty. Cost: O(F·P·d) for the assignment and O(U²·d) for the
/// grouping of the U unassigned faces (d = 1024).
/// </summary>
public static class FaceClustering
{
    public static ClusteringPlan Plan(
        IReadOnlyList<LibraryFace> faces, IReadOnlyList<Person> people, IReadOnlySet<(string FaceId, string PersonId)> rejected,
        PeopleSettings settings, Func<string> newId, DateTimeOffset now)
    {
        var threshold = settings.Threshold;
        var ordered = faces.OrderBy(f => f.Id, StringComparer.Ordinal).ToList();
        var members = people.ToDictionary(p => p.Id, _ => new List<LibraryFace>(), StringComparer.Ordinal);
        var assignments = new Dictionary<string, FaceAssignment>(StringComparer.Ordinal);
        var free = new List<LibraryFace>();

        void Place(LibraryFace face, string? personId)
        {
            if (face.PersonId == personId) assignments.Remove(face.Id);
            else assignments[face.Id] = new FaceAssignment(face.Id, personId, FaceSource.Auto);
        }

        foreach (var face in ordered)
        {
            if (face.PersonId is { } id && members.TryGetValue(id, out var list)) list.Add(face);
            else
            {
                free.Add(face);
                if (face.PersonId is not null) Place(face, null);
            }
        }

        // 1. Repair.
        foreach (var (personId, list) in members)
        {
            if (list.Count == 0) continue;
            var centroid = Centroid(list);
            var kept = new List<LibraryFace>(list.Count);
            foreach (var face in list.OrderByDescending(f => f.Source == FaceSource.User)
                         .ThenByDescending(f => TensorPrimitives.Dot(f.Descriptor, centroid)).ThenBy(f => f.Id, StringComparer.Ordinal))
            {
                if (face.Source == FaceSource.User || (!rejected.Contains((face.Id, personId)) && !kept.Exists(k => k.ImageId == face.ImageId)))
                    kept.Add(face);
                else
                {
                    free.Add(face);
                    Place(face, null);
                }
            }
            members[personId] = kept;
        }

        // 2. Assign.
        var taken = new HashSet<(string Person, string Image)>(members.SelectMany(m => m.Value.Select(f => (m.Key, f.ImageId))));
        var centroids = members.Where(m => m.Value.Count > 0).Select(m => (Id: m.Key, Centroid: Centroid(m.Value))).ToList();
        var candidates = new List<(float Score, LibraryFace Face, string Person)>();
        foreach (var face in free)
            foreach (var (id, centroid) in centroids)
            {
                var score = TensorPrimitives.Dot(face.Descriptor, centroid);
                if (score >= threshold && !rejected.Contains((face.Id, id))) candidates.Add((score, face, id));
            }
        var placed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, face, id) in candidates.OrderByDescending(c => c.Score).ThenBy(c => c.Face.Id, StringComparer.Ordinal).ThenBy(c => c.Person, StringComparer.Ordinal))
        {
            if (placed.Contains(face.Id) || !taken.Add((id, face.ImageId))) continue;
            placed.Add(face.Id);
            members[id].Add(face);
            Place(face, id);
        }

        // 3. Group.
        var rest = free.Where(f => !placed.Contains(f.Id)).DistinctBy(f => f.Id).OrderBy(f => f.Id, StringComparer.Ordinal).ToList();
        var created = new List<Person>();
        foreach (var group in Group(rest, threshold).Where(g => g.Count >= Math.Max(1, settings.MinFaces)))
        {
            var person = new Person { Id = newId(), Owner = group[0].Owner, CoverFaceId = Cover(group), CreatedAt = now, UpdatedAt = now };
            created.Add(person);
            foreach (var face in group)
            {
                placed.Add(face.Id);
                Place(face, person.Id);
            }
        }

        // Covers of the people that stay, and unnamed people left empty.
        var upserts = new List<Person>(created);
        var removals = new List<string>();
        foreach (var person in people)
        {
            var list = members[person.Id];
            if (list.Count == 0 && person.Name is null) { removals.Add(person.Id); continue; }
            var cover = list.Exists(f => f.Id == person.CoverFaceId) ? person.CoverFaceId : list.Count > 0 ? Cover(list) : null;
            if (cover != person.CoverFaceId) upserts.Add(person with { CoverFaceId = cover, UpdatedAt = now });
        }
        var change = new PeopleChange { Upserts = upserts, Assignments = assignments.Values.OrderBy(a => a.FaceId, StringComparer.Ordinal).ToList(), Removals = removals };
        var unassigned = free.DistinctBy(f => f.Id).Count(f => !placed.Contains(f.Id));
        return new ClusteringPlan(change, created.Count, removals.Count, placed.Count, unassigned, people.Count - removals.Count + created.Count);
    }

    /// <summary>Greedy average-linkage groups of <paramref name="faces"/>, never two faces of one photo in a group.</summary>
    private static List<List<LibraryFace>> Group(IReadOnlyList<LibraryFace> faces, float threshold)
    {
        var n = faces.Count;
        var edges = new List<(float Score, int A, int B)>();
        for (var i = 0; i < n; i++)
            for (var j = i + 1; j < n; j++)
            {
                if (faces[i].ImageId == faces[j].ImageId) continue;
                var score = TensorPrimitives.Dot(faces[i].Descriptor, faces[j].Descriptor);
                if (score >= threshold) edges.Add((score, i, j));
            }
        var parent = Enumerable.Range(0, n).ToArray();
        var sums = faces.Select(f => (float[])f.Descriptor.Clone()).ToArray();
        var groups = faces.Select(f => new List<LibraryFace> { f }).ToArray();
        var images = faces.Select(f => new HashSet<string>(StringComparer.Ordinal) { f.ImageId }).ToArray();
        int Find(int i)
        {
            while (parent[i] != i) i = parent[i] = parent[parent[i]];
            return i;
        }
        foreach (var (_, i, j) in edges.OrderByDescending(e => e.Score).ThenBy(e => e.A).ThenBy(e => e.B))
        {
            int a = Find(i), b = Find(j);
            if (a == b || images[a].Overlaps(images[b])) continue;
            var linkage = TensorPrimitives.Dot(sums[a], sums[b]) / ((float)groups[a].Count * groups[b].Count);
            if (linkage < threshold) continue;
            if (groups[a].Count < groups[b].Count) (a, b) = (b, a);
            parent[b] = a;
            TensorPrimitives.Add(sums[a], sums[b], sums[a]);
            groups[a].AddRange(groups[b]);
            images[a].UnionWith(images[b]);
        }
        return Enumerable.Range(0, n).Where(i => Find(i) == i).Select(i => groups[i]).ToList();
    }

    /// <summary>The normalised mean descriptor.</summary>
    public static float[] Centroid(IReadOnlyList<LibraryFace> faces)
    {
        var sum = new float[faces[0].Descriptor.Length];
        foreach (var face in faces) TensorPrimitives.Add(sum, face.Descriptor, sum);
        var norm = TensorPrimitives.Norm(sum);
        if (norm > 0) TensorPrimitives.Divide(sum, norm, sum);
        return sum;
    }

    /// <summary>The face nearest the group's centroid, the most typical one, ties to the most confident detection.</summary>
    private static string Cover(IReadOnlyList<LibraryFace> faces)
    {
        var centroid = Centroid(faces);
        return faces.OrderByDescending(f => TensorPrimitives.Dot(f.Descriptor, centroid)).ThenByDescending(f => f.Confidence)
            .ThenBy(f => f.Id, StringComparer.Ordinal).First().Id;
    }
}
