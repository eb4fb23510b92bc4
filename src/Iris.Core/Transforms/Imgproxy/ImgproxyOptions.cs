namespace Iris.Core.Transforms.Imgproxy;

/// <summary>imgproxy's resizing types: how a source is fitted to the requested width × height.</summary>
public enum ResizingType { Fit, Fill, FillDown, Force, Auto }

/// <summary>imgproxy's gravity types: the nine compass points, smart (libvips attention) and a focus point.</summary>
public enum GravityType { Centre, North, South, East, West, NorthEast, NorthWest, SouthEast, SouthWest, Smart, FocusPoint }

/// <summary>
/// Where a crop or an extension is anchored. For compass types, X and Y are offsets (absolute pixels from 1 up,
/// a fraction of the image below 1); for <see cref="GravityType.FocusPoint"/> they are the point's relative coordinates.
/// </summary>
public sealed record ImgproxyGravity(GravityType Type, double X = 0, double Y = 0)
{
    public static ImgproxyGravity Centre { get; } = new(GravityType.Centre);
}

/// <summary>CSS-style padding in pixels, added around the result (scaled by dpr).</summary>
public sealed record Padding(int Top, int Right, int Bottom, int Left);

/// <summary>
/// imgproxy's processing options after parsing, presets applied and later options overriding earlier ones, as imgproxy
/// does. Defaults are imgproxy's. Options that only shape the response (filename, attachment, expiry) live here too,
/// so one parse yields everything a request needs.
/// </summary>
public sealed record ImgproxyOptions
{
    public ResizingType ResizingType { get; init; } = ResizingType.Fit;
    public int Width { get; init; }
    public int Height { get; init; }
    public double Dpr { get; init; } = 1;
    public bool Enlarge { get; init; }
    public bool Extend { get; init; }
    public ImgproxyGravity ExtendGravity { get; init; } = ImgproxyGravity.Centre;
    public ImgproxyGravity Gravity { get; init; } = ImgproxyGravity.Centre;

    /// <summary>Crop before resizing: width and height (0 = whole side, below 1 = fraction) and its own gravity if given.</summary>
    public (double Width, double Height, ImgproxyGravity? Gravity)? Crop { get; init; }

    public (double Threshold, Rgba? Colour)? Trim { get; init; }
    public Padding? Padding { get; init; }
    public int Rotate { get; init; }
    public Rgba? Background { get; init; }
    public double Blur { get; init; }
    public double Sharpen { get; init; }
    public int Pixelate { get; init; }

    /// <summary>0 = the format's quality from <see cref="FormatQuality"/>, else the server's default.</summary>
    public int Quality { get; init; }

    public IReadOnlyDictionary<OutputFormat, int> FormatQuality { get; init; } = new Dictionary<OutputFormat, int>();
    public long MaxBytes { get; init; }

    /// <summary>The requested format; null when neither the format option nor the URL's extension names one.</summary>
    public OutputFormat? Format { get; init; }

    public bool StripMetadata { get; init; } = true;
    public string? CacheBuster { get; init; }

    /// <summary>Unix time after which the URL answers 404.</summary>
    public long? Expires { get; init; }

    public string? Filename { get; init; }
    public bool ReturnAttachment { get; init; }
}
