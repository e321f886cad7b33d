import { ascii, concat, encoder, UnsupportedLayoutError, view } from "./bytes.js";

const FLAG_XMP = 0x04;
const FLAG_ALPHA = 0x10;

interface Chunk {
  type: string;
  data: Uint8Array;
}

function chunkBytes({ type, data }: Chunk): Uint8Array {
  const header = new Uint8Array(8);
  header.set(encoder.encode(type), 0);
  view(header).setUint32(4, data.length, true);
  return concat(data.length % 2 === 1 ? [header, data, new Uint8Array(1)] : [header, data]);
}

function readChunks(bytes: Uint8Array): Chunk[] {
  const chunks: Chunk[] = [];
  let at = 12;
  while (at + 8 <= bytes.length) {
    const size = view(bytes).getUint32(at + 4, true);
    const start = at + 8;
    if (start + size > bytes.length) throw new UnsupportedLayoutError("truncated WebP chunk");
    chunks.push({ type: ascii(bytes, at, 4), data: bytes.subarray(start, start + size) });
    at = start + size + (size % 2);
  }
  return chunks;
}

/** Canvas size and alpha of a simple-format WebP (one `VP8 ` or `VP8L` chunk), read from its frame header. */
function simpleCanvas(chunk: Chunk): { width: number; height: number; alpha: boolean } {
  const d = chunk.data;
  if (chunk.type === "VP8 ") {
    if (d[3] !== 0x9d || d[4] !== 0x01 || d[5] !== 0x2a)
      throw new UnsupportedLayoutError("bad VP8 frame header");
    return {
      width: view(d).getUint16(6, true) & 0x3fff,
      height: view(d).getUint16(8, true) & 0x3fff,
      alpha: false,
    };
  }
  if (chunk.type === "VP8L") {
    if (d[0] !== 0x2f) throw new UnsupportedLayoutError("bad VP8L signature");
    const bits = view(d).getUint32(1, true);
    return {
      width: (bits & 0x3fff) + 1,
      height: ((bits >>> 14) & 0x3fff) + 1,
      alpha: ((bits >>> 28) & 1) === 1,
    };
  }
  throw new UnsupportedLayoutError(`unexpected WebP chunk ${chunk.type}`);
}

function vp8x(flags: number, width: number, height: number): Chunk {
  const data = new Uint8Array(10);
  data[0] = flags;
  const v = view(data);
  v.setUint16(4, (width - 1) & 0xffff, true);
  data[6] = ((width - 1) >>> 16) & 0xff;
  v.setUint16(7, (height - 1) & 0xffff, true);
  data[9] = ((height - 1) >>> 16) & 0xff;
  return { type: "VP8X", data };
}

/**
 * WebP: an `XMP ` chunk in the extended format. A simple file (one `VP8 `/`VP8L` chunk) gains the `VP8X` header that
 * the extended format requires, with its canvas size and alpha flag read from the bitstream; an extended file gets
 * its XMP flag set and any earlier `XMP ` chunk replaced. The bitstream is copied as is.
 */
export function insertWebpXmp(bytes: Uint8Array, xmp: string): Uint8Array {
  if (ascii(bytes, 0, 4) !== "RIFF" || ascii(bytes, 8, 4) !== "WEBP")
    throw new UnsupportedLayoutError("not a WebP");
  let chunks = readChunks(bytes).filter((chunk) => chunk.type !== "XMP ");
  const first = chunks[0];
  if (!first) throw new UnsupportedLayoutError("empty WebP");
  if (first.type === "VP8X") {
    const data = first.data.slice();
    data[0] = (data[0] as number) | FLAG_XMP;
    chunks = [{ type: "VP8X", data }, ...chunks.slice(1)];
  } else {
    const canvas = simpleCanvas(first);
    const flags = FLAG_XMP | (canvas.alpha ? FLAG_ALPHA : 0);
    chunks = [vp8x(flags, canvas.width, canvas.height), ...chunks];
  }
  // After the image data (and every frame of an animation), as the container spec orders metadata.
  chunks.push({ type: "XMP ", data: encoder.encode(xmp) });
  const body = concat(chunks.map(chunkBytes));
  const header = new Uint8Array(12);
  header.set(encoder.encode("RIFF"), 0);
  view(header).setUint32(4, body.length + 4, true);
  header.set(encoder.encode("WEBP"), 8);
  return concat([header, body]);
}
