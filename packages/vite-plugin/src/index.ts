export type * from "./types.js";
export { GrokImageError, isGrokImageError } from "./errors.js";
