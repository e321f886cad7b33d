/*
 * Byte helpers for writing metadata into image containers. Plain Uint8Array and DataView (no Buffer, no sharp), so
 * the provenance entrypoint loads wherever an Astro image service runs.
 */

export const encoder = new TextEncoder();

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function ascii(bytes: Uint8Array, start: number, length: number): string {
  let text = "";
  for (let i = start; i < start + length && i < bytes.length; i++)
    text += String.fromCharCode(bytes[i] as number);
  return text;
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  view(out).setUint32(0, value);
  return out;
}

/** Thrown when a file's layout is not one this writer can extend without re-encoding. */
export class UnsupportedLayoutError extends Error {
  override readonly name = "UnsupportedLayoutError";
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE), as PNG chunks use it. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
