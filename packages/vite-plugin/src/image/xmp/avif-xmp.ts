import { ascii, concat, encoder, UnsupportedLayoutError, u32be, view } from "./bytes.js";

/*
 * AVIF (HEIF, ISO/IEC 23008-12) keeps XMP as an item of type `mime` with content type `application/rdf+xml`, linked
 * to the primary image by a `cdsc` reference. Adding one rewrites only the `meta` box (a new `infe`, `iloc` entry and
 * `iref`) and appends the packet in an `mdat` box of its own at the end of the file; the coded image is copied as
 * is, and every absolute `iloc` offset behind the grown `meta` box moves by the growth.
 */

const XMP_CONTENT_TYPE = "application/rdf+xml";

interface Box {
  type: string;
  start: number;
  /** Where the payload starts (after size, type and any 64-bit size). */
  body: number;
  end: number;
}

function readBoxes(bytes: Uint8Array, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let at = start;
  const v = view(bytes);
  while (at + 8 <= end) {
    let size = v.getUint32(at);
    let body = at + 8;
    if (size === 1) {
      size = Number(v.getBigUint64(at + 8));
      body += 8;
    } else if (size === 0) {
      throw new UnsupportedLayoutError("box without an explicit size");
    }
    if (size < body - at || at + size > end) throw new UnsupportedLayoutError("truncated box");
    boxes.push({ type: ascii(bytes, at + 4, 4), start: at, body, end: at + size });
    at += size;
  }
  return boxes;
}

function box(type: string, payload: Uint8Array): Uint8Array {
  return concat([u32be(payload.length + 8), encoder.encode(type), payload]);
}

function readUint(v: DataView, at: number, size: number): number {
  if (size === 0) return 0;
  if (size === 2) return v.getUint16(at);
  if (size === 4) return v.getUint32(at);
  if (size === 8) return Number(v.getBigUint64(at));
  throw new UnsupportedLayoutError(`field of ${size} bytes`);
}

function writeUint(out: number[], value: number, size: number): void {
  for (let i = size - 1; i >= 0; i--) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
}

interface IlocItem {
  id: number;
  method: number;
  dataRef: number;
  baseOffset: number;
  extents: { index: number; offset: number; length: number }[];
}

interface Iloc {
  version: number;
  offsetSize: number;
  lengthSize: number;
  baseOffsetSize: number;
  indexSize: number;
  items: IlocItem[];
}

function parseIloc(bytes: Uint8Array, b: Box): Iloc {
  const v = view(bytes);
  let at = b.body;
  const version = bytes[at] as number;
  at += 4;
  const offsetSize = (bytes[at] as number) >> 4;
  const lengthSize = (bytes[at] as number) & 15;
  const baseOffsetSize = (bytes[at + 1] as number) >> 4;
  const indexSize = version > 0 ? (bytes[at + 1] as number) & 15 : 0;
  at += 2;
  const count = version < 2 ? v.getUint16(at) : v.getUint32(at);
  at += version < 2 ? 2 : 4;
  const items: IlocItem[] = [];
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? v.getUint16(at) : v.getUint32(at);
    at += version < 2 ? 2 : 4;
    let method = 0;
    if (version > 0) {
      method = v.getUint16(at) & 15;
      at += 2;
    }
    const dataRef = v.getUint16(at);
    at += 2;
    const baseOffset = readUint(v, at, baseOffsetSize);
    at += baseOffsetSize;
    const extentCount = v.getUint16(at);
    at += 2;
    const extents = [];
    for (let e = 0; e < extentCount; e++) {
      const index = version > 0 && indexSize > 0 ? readUint(v, at, indexSize) : 0;
      at += version > 0 ? indexSize : 0;
      const offset = readUint(v, at, offsetSize);
      at += offsetSize;
      const length = readUint(v, at, lengthSize);
      at += lengthSize;
      extents.push({ index, offset, length });
    }
    items.push({ id, method, dataRef, baseOffset, extents });
  }
  return { version, offsetSize, lengthSize, baseOffsetSize, indexSize, items };
}

function writeIloc(iloc: Iloc): Uint8Array {
  const out: number[] = [iloc.version, 0, 0, 0];
  out.push((iloc.offsetSize << 4) | iloc.lengthSize, (iloc.baseOffsetSize << 4) | iloc.indexSize);
  writeUint(out, iloc.items.length, iloc.version < 2 ? 2 : 4);
  for (const item of iloc.items) {
    writeUint(out, item.id, iloc.version < 2 ? 2 : 4);
    if (iloc.version > 0) writeUint(out, item.method, 2);
    writeUint(out, item.dataRef, 2);
    writeUint(out, item.baseOffset, iloc.baseOffsetSize);
    writeUint(out, item.extents.length, 2);
    for (const extent of item.extents) {
      if (iloc.version > 0) writeUint(out, extent.index, iloc.indexSize);
      writeUint(out, extent.offset, iloc.offsetSize);
      writeUint(out, extent.length, iloc.lengthSize);
    }
  }
  return box("iloc", new Uint8Array(out));
}

/** Item ids and whether one is already XMP, from `iinf`. */
function readInfos(
  bytes: Uint8Array,
  b: Box,
): { count: number; entries: Box[]; hasXmp: boolean; ids: number[] } {
  const version = bytes[b.body] as number;
  const countSize = version === 0 ? 2 : 4;
  const count = readUint(view(bytes), b.body + 4, countSize);
  const entries = readBoxes(bytes, b.body + 4 + countSize, b.end);
  let hasXmp = false;
  const ids: number[] = [];
  for (const infe of entries) {
    const infeVersion = bytes[infe.body] as number;
    if (infeVersion < 2) continue;
    const idSize = infeVersion === 2 ? 2 : 4;
    ids.push(readUint(view(bytes), infe.body + 4, idSize));
    const typeAt = infe.body + 4 + idSize + 2;
    if (ascii(bytes, typeAt, 4) !== "mime") continue;
    const rest = ascii(bytes, typeAt + 4, infe.end - typeAt - 4).split("\0");
    if (rest[1] === XMP_CONTENT_TYPE) hasXmp = true;
  }
  return { count, entries, hasXmp, ids };
}

export function insertAvifXmp(bytes: Uint8Array, xmp: string): Uint8Array {
  const top = readBoxes(bytes, 0, bytes.length);
  if (top[0]?.type !== "ftyp") throw new UnsupportedLayoutError("not an ISO-BMFF file");
  const meta = top.find((b) => b.type === "meta");
  if (!meta) throw new UnsupportedLayoutError("no meta box");
  const children = readBoxes(bytes, meta.body + 4, meta.end);
  const find = (type: string) => children.find((b) => b.type === type);
  const ilocBox = find("iloc");
  const iinfBox = find("iinf");
  const pitmBox = find("pitm");
  if (!ilocBox || !iinfBox || !pitmBox)
    throw new UnsupportedLayoutError("meta box without iloc, iinf or pitm");
  const infos = readInfos(bytes, iinfBox);
  if (infos.hasXmp) throw new UnsupportedLayoutError("already holds an XMP item");
  const iloc = parseIloc(bytes, ilocBox);
  const primary = readUint(view(bytes), pitmBox.body + 4, bytes[pitmBox.body] === 0 ? 2 : 4);
  const id = Math.max(0, ...infos.ids, ...iloc.items.map((item) => item.id)) + 1;
  if (id > 0xffff && iloc.version < 2) throw new UnsupportedLayoutError("too many items");
  if (iloc.offsetSize === 0 && iloc.baseOffsetSize === 0)
    throw new UnsupportedLayoutError("iloc without offsets");

  // infe version 2 (16-bit id) or 3: id, protection index 0, type `mime`, empty name, content type.
  const infeHead: number[] = [id > 0xffff ? 3 : 2, 0, 0, 0];
  writeUint(infeHead, id, id > 0xffff ? 4 : 2);
  writeUint(infeHead, 0, 2);
  const infe = box("infe", concat([new Uint8Array(infeHead), encoder.encode(`mime\0${XMP_CONTENT_TYPE}\0`)]));
  const iinfVersion = bytes[iinfBox.body] as number;
  const iinfHead: number[] = [iinfVersion, 0, 0, 0];
  writeUint(iinfHead, infos.count + 1, iinfVersion === 0 ? 2 : 4);
  const iinf = box(
    "iinf",
    concat([new Uint8Array(iinfHead), ...infos.entries.map((e) => bytes.subarray(e.start, e.end)), infe]),
  );

  const irefBox = find("iref");
  const irefVersion = irefBox ? (bytes[irefBox.body] as number) : id > 0xffff ? 1 : 0;
  const idSize = irefVersion === 0 ? 2 : 4;
  if (id > 0xffff && idSize === 2) throw new UnsupportedLayoutError("too many items for iref");
  const cdsc: number[] = [];
  writeUint(cdsc, id, idSize);
  writeUint(cdsc, 1, 2);
  writeUint(cdsc, primary, idSize);
  const iref = box(
    "iref",
    concat([
      new Uint8Array([irefVersion, 0, 0, 0]),
      irefBox ? bytes.subarray(irefBox.body + 4, irefBox.end) : new Uint8Array(0),
      box("cdsc", new Uint8Array(cdsc)),
    ]),
  );

  // The new iloc entry has a fixed size, so the growth is known before its offsets are.
  iloc.items.push({
    id,
    method: 0,
    dataRef: 0,
    baseOffset: 0,
    extents: [{ index: 0, offset: 0, length: 0 }],
  });
  const rebuild = () =>
    concat(
      children.flatMap((child) => {
        if (child === iinfBox) return irefBox ? [iinf] : [iinf, iref];
        if (child === ilocBox) return [writeIloc(iloc)];
        if (child === irefBox) return [iref];
        return [bytes.subarray(child.start, child.end)];
      }),
    );
  const metaHead = bytes.subarray(meta.body, meta.body + 4);
  const grownMetaSize = 8 + 4 + rebuild().length;
  const growth = grownMetaSize - (meta.end - meta.start);
  for (const item of iloc.items.slice(0, -1)) {
    if (item.method !== 0) continue;
    const at = item.baseOffset + (item.extents[0]?.offset ?? 0);
    if (at < meta.end) continue;
    if (iloc.baseOffsetSize > 0) item.baseOffset += growth;
    else for (const extent of item.extents) extent.offset += growth;
  }
  const xmpBytes = encoder.encode(xmp);
  const xmpAt = bytes.length + growth + 8;
  const added = iloc.items[iloc.items.length - 1] as IlocItem;
  if (iloc.baseOffsetSize > 0) added.baseOffset = xmpAt;
  else (added.extents[0] as { offset: number }).offset = xmpAt;
  (added.extents[0] as { length: number }).length = iloc.lengthSize === 0 ? 0 : xmpBytes.length;
  const newMeta = box("meta", concat([metaHead, rebuild()]));
  if (newMeta.length !== grownMetaSize) throw new UnsupportedLayoutError("meta size changed while writing");
  return concat([bytes.subarray(0, meta.start), newMeta, bytes.subarray(meta.end), box("mdat", xmpBytes)]);
}
