namespace Iris.Core.Imaging.Preprocessing;

/// <summary>
/// YOLOX's letterbox: scale by r = min(W/w, H/h), resize to (⌊w·r⌋, ⌊h·r⌋) with OpenCV's bilinear sampling (what
/// the model saw in training and in the reference demo), place at the top-left of a W×H canvas filled with the pad
/// value, normalised like the pixels.
/// </summary>
public static class Letterbox
{
    /// <summary>The scale factor r and the size of the resized image inside the <paramref name="width"/>×<paramref name="height"/> canvas.</summary>
    public static (float Ratio, int ResizedWidth, int ResizedHeight) Fit(int imageWidth, int imageHeight, int width, int height)
    {
        var ratio = Math.Min((float)width / imageWidth, (float)height / imageHeight);
        return (ratio, Math.Clamp((int)(imageWidth * ratio), 1, width), Math.Clamp((int)(imageHeight * ratio), 1, height));
    }

    /// <summary>Fills <paramref name="tensor"/> (one width × height image in <paramref name="format"/>) and returns the scale factor r.</summary>
    public static float Fill(DecodedImage image, Span<float> tensor, int width, int height, float padValue, TensorFormat format)
    {
        if (tensor.Length < 3L * width * height)
            throw new ArgumentException($"Tensor needs {3L * width * height} floats, got {tensor.Length}.", nameof(tensor));
        var (ratio, resizedWidth, resizedHeight) = Fit(image.Width, image.Height, width, height);
        Span<float> pad = stackalloc float[3];
        for (var c = 0; c < 3; c++)
            pad[format.TensorChannel(c)] = format.Normalization.IsIdentity ? padValue : format.Normalization.Apply(padValue, c);
        TensorWriter.FillOutside(tensor, format, width, height, resizedWidth, resizedHeight, pad);
        OpenCvBilinear.Write(image, resizedWidth, resizedHeight, format, tensor, width, height);
        return ratio;
    }
}
