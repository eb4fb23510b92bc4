using System.Text.Json;
using Iris.Tests.Faces;
using Iris.Tests.Support;

namespace Iris.Tests.Cli;

public class PeopleCliTests
{
    [Fact]
    public async Task People_registered_from_the_command_line_are_recognised_and_a_group_photo_needs_a_choice()
    {
        using var work = new TempDirectory();
        string[] common = ["--mirror", TestPaths.ModelMirror, "--model-cache", work.File("models"), "--set", $"Jobs:Database={work.File("jobs.db")}"];

        var refused = await IrisProcess.RunAsync(["people", "register", "Group", TestPaths.RealImage("faces-13.jpg"), .. common]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("shows 2 faces", refused.StandardError);

        var registered = await IrisProcess.RunAsync(["people", "register", "Carol", Path.Combine(FaceResTests.RealModels, "face-f16c.png"), .. common]);
        Assert.True(registered.ExitCode == 0, registered.StandardError);
        Assert.Contains("Carol  1 face(s)", registered.StandardOutput);

        var recognised = await IrisProcess.RunAsync(["people", "recognize", TestPaths.RealImage("faces-16.jpg"), "--json", .. common]);
        Assert.True(recognised.ExitCode == 0, recognised.StandardError);
        var names = JsonDocument.Parse(recognised.StandardOutput).RootElement.GetProperty("faces").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.Equal(9, names.Count);
        Assert.Equal(1, names.Count(n => n == "Carol"));

        var help = await IrisProcess.RunAsync(["people", "--help"]);
        Assert.Contains("register", help.StandardOutput);
    }
}
