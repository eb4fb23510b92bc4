using Iris.Core.Detection;

namespace Iris.Core.Faces;

/// <summary>A square region of an image, in whole pixels, that lies inside it.</summary>
public readonly record struct FaceCrop(int X, int Y, int Side)
{
    public BoundingBox Box => new(X, Y, X + Side, Y + Side);

    /// <summary>
    /// The square around a detected face: side max(w, h) × (1 + 2 × <paramref name="margin"/>), centred on the box, then
    /// moved (never cut) to lie inside the image; a square larger than the image's short side shrinks to it. Keeping
    /// the square whole keeps the face's proportions, which a descriptor is sensitive to.
    /// </summary>
    public static FaceCrop Around(BoundingBox box, float margin, int imageWidth, int imageHeight)
    {
        var side = Math.Max(box.XMax - box.XMin, box.YMax - box.YMin) * (1 + 2 * margin);
        var whole = Math.Clamp((int)MathF.Round(side), 1, Math.Min(imageWidth, imageHeight));
        var cx = (box.XMin + box.XMax) / 2;
        var cy = (box.YMin + box.YMax) / 2;
        var x = Math.Clamp((int)MathF.Round(cx - whole / 2f), 0, imageWidth - whole);
        var y = Math.Clamp((int)MathF.Round(cy - whole / 2f), 0, imageHeight - whole);
        return new FaceCrop(x, y, whole);
    }

    /// <summary>The whole of a square image (an image that is already a face crop).</summary>
    public static FaceCrop Whole(int width, int height) => new(0, 0, Math.Min(width, height));

    /// <summary>
    /// Resizes this region of <paramref name="rgb"/> to <paramref name="size"/>² into NHWC floats 0–255, exactly as
    /// Human feeds FaceRes: <c>tf.image.resizeBilinear(crop, [size, size], alignCorners=false)</c> with TF.js's default
    /// <c>halfPixelCenters=false</c>, i.e. source = destination × (in / out), no half-pixel shift, no antialiasing, the
    /// last row and column repeated; and floats, never rounded back to bytes.
    /// </summary>
    public void WriteTensor(ReadOnlySpan<byte> rgb, int imageWidth, int size, Span<float> tensor)
    {
        if (tensor.Length < size * size * 3)
            throw new ArgumentException($"the tensor holds {tensor.Length} values, a {size}² RGB crop needs {size * size * 3}", nameof(tensor));
        var stride = imageWidth * 3;
        var scale = (float)Side / size;
        for (var oy = 0; oy < size; oy++)
        {
            var sy = oy * scale;
            var y0 = (int)sy;
            var y1 = Math.Min(y0 + 1, Side - 1);
            var dy = sy - y0;
            var row0 = rgb.Slice((Y + y0) * stride);
            var row1 = rgb.Slice((Y + y1) * stride);
            var target = tensor.Slice(oy * size * 3, size * 3);
            for (var ox = 0; ox < size; ox++)
            {
                var sx = ox * scale;
                var x0 = (int)sx;
                var x1 = Math.Min(x0 + 1, Side - 1);
                var dx = sx - x0;
                int a = (X + x0) * 3, b = (X + x1) * 3;
                for (var c = 0; c < 3; c++)
                {
                    // TF's order: interpolate along x on both rows, then along y.
                    float top = row0[a + c] + (row0[b + c] - row0[a + c]) * dx;
                    float bottom = row1[a + c] + (row1[b + c] - row1[a + c]) * dx;
                    target[ox * 3 + c] = top + (bottom - top) * dy;
                }
            }
        }
    }
}
