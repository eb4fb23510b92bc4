using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Facades;

/// <summary>
/// A server for the imgproxy facade: two signing key/salt pairs (rotation), a preset, and a local root holding the
/// lossless test images; a secret file beside the root and a symbolic link to it inside, for the escape tests.
/// </summary>
public sealed class ImgproxyHost : IAsyncLifetime
{
    /// <summary>The second pair: URLs signed with it must work as well as with the first.</summary>
    public const string OldKey = "6c1b3f0e5d2a4978a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
    public const string OldSalt = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

    private readonly TempDirectory _data = new();

    public IrisTestHost Host { get; private set; } = null!;
    public string LocalRoot => Path.Combine(_data.Path, "local");
    public string Endpoint => new Uri(Host.Address, "/imgproxy").ToString();

    /// <summary>input.png: a real photo downsized to 256×192, stored losslessly so every comparison starts from the same pixels.</summary>
    public byte[] Input => File.ReadAllBytes(Path.Combine(LocalRoot, "input.png"));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(LocalRoot);
        using (var thumbnail = Image.Thumbnail(TestPaths.RealImage("dog.jpg"), 256))
            thumbnail.WriteToFile(Path.Combine(LocalRoot, "input.png"));
        using (var photo = Image.NewFromFile(Path.Combine(LocalRoot, "input.png"), access: Enums.Access.Random))
        {
            using var bordered = photo.Embed(20, 20, photo.Width + 40, photo.Height + 40, extend: Enums.Extend.White);
            bordered.WriteToFile(Path.Combine(LocalRoot, "bordered.png"));
            using var withAlpha = photo.Bandjoin(photo.ExtractBand(0));
            withAlpha.WriteToFile(Path.Combine(LocalRoot, "alpha.png"));
            photo.WriteToFile(Path.Combine(_data.Path, "secret.png"));
        }
        File.WriteAllBytes(Path.Combine(LocalRoot, "huge.png"), TestImages.PngWithDeclaredSize(30_000, 30_000));
        File.WriteAllText(Path.Combine(LocalRoot, "notes.png"), "not an image at all");
        File.CreateSymbolicLink(Path.Combine(LocalRoot, "link.png"), Path.Combine(_data.Path, "secret.png"));
        Directory.CreateSymbolicLink(Path.Combine(LocalRoot, "outside"), _data.Path);

        var settings = TransformHost.Settings(_data.Path);
        settings["Transforms:SigningKey"] = $"{TransformHost.Key},{OldKey}";
        settings["Transforms:SigningSalt"] = $"{TransformHost.Salt},{OldSalt}";
        settings["Transforms:LocalRoot"] = LocalRoot;
        settings["Transforms:ImgproxyPresets:thumb"] = "rs:fill:64:48/f:png";
        Host = await IrisTestHost.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
    }

    public Task<string> UrlAsync(string source, string optionsJson, bool plain = false, bool signed = true, string? key = null, string? salt = null) =>
        ImgproxyNode.UrlAsync(Endpoint, key ?? TransformHost.Key, salt ?? TransformHost.Salt,
            new ImgproxyNode.Call(source, (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(optionsJson)!, plain, signed));
}
