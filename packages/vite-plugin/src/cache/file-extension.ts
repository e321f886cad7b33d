/** File extension for a format name: `jpeg` is written `.jpg`, the others keep their name. */
export function fileExtension(format: string): string {
  if (format === "jpeg") return "jpg";
  if (format === "heif") return "avif";
  return format;
}
