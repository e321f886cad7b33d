export type { GrokImage, GrokImageOptions, Mode, OutputFormat, Tier } from "vite-plugin-grok-image";
export { grokImage, grokImage as default } from "./integration.js";
