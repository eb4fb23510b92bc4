using Microsoft.Playwright;

namespace Iris.Tests.Ui;

/// <summary>
/// Debian's chromium driven by Playwright. Playwright's own browser download cannot reach the internet here (nor in CI),
/// so the tests launch the system browser (scripts/install-test-deps.sh installs it); only Playwright's driver, which
/// ships inside the NuGet package with its own node, is used. IRIS_TEST_CHROMIUM points at another binary.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public static string ExecutablePath { get; } =
        Environment.GetEnvironmentVariable("IRIS_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private IPlaywright _playwright = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"Chromium was not found at {ExecutablePath}: run scripts/install-test-deps.sh (Debian package chromium) or set IRIS_TEST_CHROMIUM.");
        // The machine is shared and busy: page actions get a generous wait rather than flaking (these are waits, not assertions on speed).
        Assertions.SetDefaultExpectTimeout(60_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Root in a container has no user namespaces for Chromium's sandbox; /dev/shm is often too small for it.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    /// <summary>A fresh browser context (its own localStorage) with one page whose console errors are collected.</summary>
    public async Task<(IPage Page, List<string> ConsoleErrors)> NewPageAsync()
    {
        var context = await Browser.NewContextAsync();
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") lock (errors) errors.Add(message.Text); };
        page.PageError += (_, error) => { lock (errors) errors.Add(error); };
        return (page, errors);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
