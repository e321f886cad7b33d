import type { LocalImageService } from "astro";
import sharp from "sharp";
import { insertXmp } from "vite-plugin-grok-image/provenance";
import { describe, expect, it } from "vitest";
import { markingService } from "../../packages/astro-integration/src/image-service/marking-service.js";

const XMP = `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>
<xmp:CreatorTool>grok-image</xmp:CreatorTool></rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>`;

/** Stands in for Astro's sharp service: re-encodes and drops every piece of metadata. */
const inner = {
  getURL: () => "/_image",
  parseURL: () => undefined,
  validateOptions: (options: never) => options,
  async transform(input: Uint8Array, options: { format?: string }) {
    const format = (options.format ?? "webp") as "webp" | "avif" | "png" | "jpeg";
    const { data, info } = await sharp(input).toFormat(format).toBuffer({ resolveWithObject: true });
    return { data, format: info.format };
  },
} as unknown as LocalImageService;

const logger = { info() {}, warn() {}, error() {} } as never;
const pixels = sharp({ create: { width: 32, height: 24, channels: 3, background: "#4080c0" } });

describe("markingService", () => {
  for (const format of ["webp", "avif", "png", "jpeg"]) {
    it(`writes a grok image's packet into the ${format} the configured service made`, async () => {
      // As the integration hands it over: the packet written into the file uncompressed (sharp's own PNG XMP is
      // deflated, and no grok file reaches Astro that way).
      const input = insertXmp(await pixels.clone().png().toBuffer(), "png", XMP);
      const service = markingService(inner) as LocalImageService;
      const out = await service.transform(input, { src: "x.png", format } as never, {} as never, logger);
      const meta = await sharp(out.data).metadata();
      expect(meta.xmp?.toString("utf8")).toContain("trainedAlgorithmicMedia");
      expect(meta.width).toBe(32);
    });
  }

  it("leaves other images as the configured service made them", async () => {
    const input = await pixels.clone().png().toBuffer();
    const service = markingService(inner) as LocalImageService;
    const out = await service.transform(
      input,
      { src: "x.png", format: "webp" } as never,
      {} as never,
      logger,
    );
    expect((await sharp(out.data).metadata()).xmp).toBeUndefined();
    expect(service.getURL).toBe(inner.getURL);
  });

  it("keeps an external service (no transform) as it is", () => {
    const external = { getURL: () => "https://cdn.example.com/x" } as never;
    expect(markingService(external)).toBe(external);
  });
});
