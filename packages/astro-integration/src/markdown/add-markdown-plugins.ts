import type { AstroConfig, AstroIntegrationLogger } from "astro";
import { remarkGrokImages } from "./remark-plugin.js";
import { satteriGrokImages } from "./satteri-plugin.js";

type Processor = AstroConfig["markdown"]["processor"];

/** Puts `plugin` first in `options[key]` (creating the list), once: a dev-server restart runs setup again. */
function prepend(options: Record<string, unknown>, key: string, plugin: unknown): void {
  const current = options[key];
  const list = Array.isArray(current) ? current : [];
  if (!list.includes(plugin)) list.unshift(plugin);
  options[key] = list;
}

/**
 * Adds the `grok:` image rewrite to the configured Markdown processor, in place. Astro keeps the processor object's
 * identity through config validation precisely so integrations can extend `processor.options`, and `@astrojs/mdx`
 * (with its default `extendMarkdownConfig`) renders `.mdx` with the same object, so one change covers both.
 */
export function addMarkdownPlugins(processor: Processor, logger: AstroIntegrationLogger): void {
  const options = processor.options as Record<string, unknown>;
  if (processor.name === "satteri") prepend(options, "mdastPlugins", satteriGrokImages);
  else if (processor.name === "unified") prepend(options, "remarkPlugins", remarkGrokImages);
  else {
    logger.warn(
      `The Markdown processor "${processor.name}" is not one astro-grok-image knows, so \`![](grok:...)\` images in Markdown stay as written. Import the image in a component instead: import img from "grok:...".`,
    );
  }
}
