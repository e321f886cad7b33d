import { insertAvifXmp } from "./avif-xmp.js";
import { UnsupportedLayoutError } from "./bytes.js";
import { insertJpegXmp, insertPngXmp } from "./jpeg-png-xmp.js";
import { insertWebpXmp } from "./webp-xmp.js";

/*
 * Writing an XMP packet into an encoded image without re-encoding it, and finding grok-image's packet in one. This
 * is the `vite-plugin-grok-image/provenance` entrypoint: the Astro integration's image service marks what Astro's
 * configured service encodes, and the Astro handoff marks the original itself. Pure byte work, no sharp.
 */

export { UnsupportedLayoutError } from "./bytes.js";

/** Container formats `insertXmp` writes into. */
export const XMP_FORMATS = ["jpeg", "jpg", "png", "webp", "avif"] as const;

/**
 * The same image with `xmp` as its XMP packet (replacing one already there, except in AVIF, which must have none).
 * The coded image data is copied byte for byte, so the pixels are exactly the input's. Throws
 * `UnsupportedLayoutError` for another format or a layout it cannot extend.
 */
export function insertXmp(bytes: Uint8Array, format: string, xmp: string): Uint8Array {
  switch (format) {
    case "jpeg":
    case "jpg":
      return insertJpegXmp(bytes, xmp);
    case "png":
      return insertPngXmp(bytes, xmp);
    case "webp":
      return insertWebpXmp(bytes, xmp);
    case "avif":
      return insertAvifXmp(bytes, xmp);
    default:
      throw new UnsupportedLayoutError(`no XMP writer for ${format}`);
  }
}

const PACKET_START = "<?xpacket begin=";
const PACKET_END = '<?xpacket end="w"?>';
/** What makes a packet grok-image's own (provenance-xmp.ts writes it); a foreign packet is never copied. */
const GROK_MARK = "<xmp:CreatorTool>grok-image</xmp:CreatorTool>";
const TRAINED = "digitalsourcetype/trainedAlgorithmicMedia";

/**
 * grok-image's provenance packet in an encoded image, or undefined. `insertXmp` and sharp's `withXmp` store the
 * packet as plain text in JPEG, WebP and AVIF, and `insertXmp` in PNG too (sharp deflates it there, and such a file is
 * never handed to a host), so this is a byte search for the packet's delimiters, whatever the format.
 */
export function findGrokXmp(bytes: Uint8Array): string | undefined {
  const text = latin1(bytes);
  let from = 0;
  for (;;) {
    const start = text.indexOf(PACKET_START, from);
    if (start === -1) return undefined;
    const end = text.indexOf(PACKET_END, start);
    if (end === -1) return undefined;
    const packet = text.slice(start, end + PACKET_END.length);
    if (packet.includes(GROK_MARK) && packet.includes(TRAINED)) {
      return new TextDecoder().decode(bytes.subarray(start, end + PACKET_END.length));
    }
    from = end;
  }
}

/** One character per byte, so string indices are byte offsets. */
function latin1(bytes: Uint8Array): string {
  let text = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    text += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return text;
}
