import { ascii, concat, crc32, encoder, UnsupportedLayoutError, u32be, view } from "./bytes.js";

const JPEG_XMP_NS = "http://ns.adobe.com/xap/1.0/\0";
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_XMP_KEYWORD = "XML:com.adobe.xmp";

/**
 * JPEG: the XMP as an APP1 segment after the JFIF/EXIF application segments (JFIF requires APP0 first), replacing
 * any XMP APP1 already there. Other segments (ICC, C2PA's APP11) stay as they are; the entropy-coded data is untouched.
 */
export function insertJpegXmp(bytes: Uint8Array, xmp: string): Uint8Array {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new UnsupportedLayoutError("not a JPEG");
  const payload = concat([encoder.encode(JPEG_XMP_NS), encoder.encode(xmp)]);
  if (payload.length + 2 > 0xffff) throw new UnsupportedLayoutError("XMP too large for one APP1 segment");
  const segment = new Uint8Array(4);
  segment[0] = 0xff;
  segment[1] = 0xe1;
  view(segment).setUint16(2, payload.length + 2);
  const kept: Uint8Array[] = [bytes.subarray(0, 2)];
  let at = 2;
  let insertAt = -1;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new UnsupportedLayoutError("malformed JPEG segment");
    const marker = bytes[at + 1] as number;
    // Start of scan (or any marker without a length) ends the header: the rest is copied as is.
    if (marker === 0xda || marker === 0xd9 || (marker >= 0xd0 && marker <= 0xd7)) break;
    const length = view(bytes).getUint16(at + 2);
    const end = at + 2 + length;
    const isXmp = marker === 0xe1 && ascii(bytes, at + 4, JPEG_XMP_NS.length) === JPEG_XMP_NS;
    const isLeading = marker === 0xe0 || (marker === 0xe1 && !isXmp);
    if (insertAt === -1 && !isLeading && !isXmp) {
      insertAt = kept.length;
      kept.push(segment, payload);
    }
    if (!isXmp) kept.push(bytes.subarray(at, end));
    at = end;
  }
  if (insertAt === -1) kept.push(segment, payload);
  kept.push(bytes.subarray(at));
  return concat(kept);
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const typeAndData = concat([encoder.encode(type), data]);
  return concat([u32be(data.length), typeAndData, u32be(crc32(typeAndData))]);
}

/** PNG: an uncompressed `iTXt` chunk `XML:com.adobe.xmp` right after IHDR, replacing any earlier one. */
export function insertPngXmp(bytes: Uint8Array, xmp: string): Uint8Array {
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) throw new UnsupportedLayoutError("not a PNG");
  // keyword, NUL, compression flag 0, method 0, empty language tag + NUL, empty translated keyword + NUL, text.
  const data = concat([
    encoder.encode(PNG_XMP_KEYWORD),
    new Uint8Array([0, 0, 0, 0, 0]),
    encoder.encode(xmp),
  ]);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = view(bytes).getUint32(at);
    const type = ascii(bytes, at + 4, 4);
    const end = at + 12 + length;
    const isXmp =
      type === "iTXt" && ascii(bytes, at + 8, PNG_XMP_KEYWORD.length + 1) === `${PNG_XMP_KEYWORD}\0`;
    if (!isXmp) parts.push(bytes.subarray(at, end));
    if (type === "IHDR") parts.push(pngChunk("iTXt", data));
    at = end;
  }
  if (parts.length < 3) throw new UnsupportedLayoutError("PNG without IHDR");
  return concat(parts);
}
