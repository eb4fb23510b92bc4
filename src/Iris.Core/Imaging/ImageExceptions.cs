namespace Iris.Core.Imaging;

/// <summary>The input can never become a usable image; retrying the same bytes will fail the same way.</summary>
public abstract class ImageRejectedException(string message, Exception? inner = null) : Exception(message, inner);

public sealed class EmptyImageException()
    : ImageRejectedException("The request contained no image data (the body or file was empty).");

public sealed class ImageTooLargeException(long bytes, long maxBytes)
    : ImageRejectedException($"The image is {bytes:N0} bytes; the limit is {maxBytes:N0} bytes (Images:MaxBytes).")
{
    public long Bytes { get; } = bytes;
    public long MaxBytes { get; } = maxBytes;
}

/// <summary>The header declares a size beyond one of the limits (pixels, width, height or aspect ratio); the message names it.</summary>
public sealed class ImageDimensionsTooLargeException : ImageRejectedException
{
    public ImageDimensionsTooLargeException(int width, int height, long maxPixels)
        : this(width, height,
            $"The image header declares {width}×{height} = {(long)width * height:N0} pixels; the limit is {maxPixels:N0} pixels (Images:MaxPixels).")
    {
    }

    public ImageDimensionsTooLargeException(int width, int height, string message) : base(message)
    {
        Width = width;
        Height = height;
    }

    public int Width { get; }
    public int Height { get; }
}

public sealed class UnsupportedImageFormatException(string message) : ImageRejectedException(message);

public sealed class CorruptImageException(string message, Exception? inner = null) : ImageRejectedException(message, inner);

public sealed class ImageDecodeTimeoutException(TimeSpan timeout)
    : ImageRejectedException($"Decoding the image took longer than {timeout.TotalMilliseconds:N0} ms (Images:DecodeTimeoutMs).");

/// <summary>The image is valid but would cost more work than any real image of its kind (an SVG that expands without bound).</summary>
public sealed class ImageTooComplexException(string message) : ImageRejectedException(message);
