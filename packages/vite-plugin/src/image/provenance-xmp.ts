/** IPTC NewsCodes term for media created by a generative model trained on sampled content. */
export const TRAINED_ALGORITHMIC_MEDIA =
  "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

/** What the XMP packet says about an image's origin. */
export interface Provenance {
  /** The model id, e.g. `grok-imagine/text-to-image-lite`. */
  model: string;
  /** The normalized prompt. */
  prompt: string;
}

/** Escapes text for XML element content and attribute values. */
export function escapeXml(text: string): string {
  return (
    text
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
      // Control characters other than tab, LF and CR are not allowed in XML 1.0 at all.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "")
  );
}

/**
 * An XMP packet marking the image as AI-generated: IPTC Digital Source Type `trainedAlgorithmicMedia` (what
 * platforms and the EU AI Act labelling read), the IPTC 2025.1 AI properties (system used, prompt), and the
 * prompt again as `dc:description`, which most viewers show.
 */
export function provenanceXmp({ model, prompt }: Provenance): string {
  const m = escapeXml(model);
  const p = escapeXml(prompt);
  return `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <Iptc4xmpExt:DigitalSourceType>${TRAINED_ALGORITHMIC_MEDIA}</Iptc4xmpExt:DigitalSourceType>
   <Iptc4xmpExt:AISystemUsed>${m}</Iptc4xmpExt:AISystemUsed>
   <Iptc4xmpExt:AIPromptInformation>${p}</Iptc4xmpExt:AIPromptInformation>
   <xmp:CreatorTool>grok-image</xmp:CreatorTool>
   <dc:description>
    <rdf:Alt>
     <rdf:li xml:lang="x-default">${p}</rdf:li>
    </rdf:Alt>
   </dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;
}
