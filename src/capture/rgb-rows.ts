/**
 * GStreamer pads each RGB row to a multiple of 4 bytes; Frame promises stride = width * 3.
 * Returns the buffer as is when there is no padding, a packed copy when there is, and undefined
 * when the size fits neither layout (the caller treats that as a bad frame).
 */
export function packRgbRows(buf: Buffer, width: number, height: number): Buffer | undefined {
  const row = width * 3;
  if (buf.length === row * height) return buf;
  const stride = (row + 3) & ~3;
  if (buf.length !== stride * height) return undefined;
  const packed = Buffer.allocUnsafe(row * height);
  for (let y = 0; y < height; y++) buf.copy(packed, y * row, y * stride, y * stride + row);
  return packed;
}
