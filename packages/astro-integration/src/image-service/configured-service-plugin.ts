import type { ViteUserConfig } from "astro";

/** Vite's `Plugin`, taken from Astro's config type so this package needs no dependency on `vite` of its own. */
type Plugin = Extract<NonNullable<ViteUserConfig["plugins"]>[number], { name: string }>;

export const CONFIGURED_SERVICE_ID = "virtual:grok-image/configured-image-service";
const RESOLVED_ID = `\0${CONFIGURED_SERVICE_ID}`;

/**
 * Resolves the virtual module behind the wrapping image service to the entrypoint the project configured (a
 * package such as `astro/assets/services/sharp`, or a file of the project), resolved from the project root as
 * Astro resolves `image.service.entrypoint` itself.
 */
export function configuredServicePlugin(entrypoint: () => string): Plugin {
  return {
    name: "astro-grok-image:configured-image-service",
    enforce: "pre",
    resolveId: {
      filter: { id: new RegExp(`^${CONFIGURED_SERVICE_ID}$`) },
      handler: () => RESOLVED_ID,
    },
    load: {
      filter: { id: new RegExp(`^\\0${CONFIGURED_SERVICE_ID}$`) },
      async handler() {
        const resolved = await this.resolve(entrypoint());
        const target = resolved?.id ?? entrypoint();
        return `export { default } from ${JSON.stringify(target)};\n`;
      },
    },
  };
}
