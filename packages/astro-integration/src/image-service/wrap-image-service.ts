import type { AstroConfig, AstroIntegrationLogger } from "astro";
import { configuredServicePlugin } from "./configured-service-plugin.js";

/** What the integration sets as `image.service.entrypoint`: a package specifier, so Astro's file hashes stay the same on every machine. */
export const MARKING_SERVICE = "astro-grok-image/image-service";

/**
 * How the integration keeps the AI-generated marking in what Astro's image service encodes (SPEC section 8): Astro's
 * supported extension point is `image.service`, so the configured service is wrapped by one that writes the XMP
 * back into each output of a grok image. `setup` reads the service configured so far and returns the config update;
 * `check` (at `astro:config:done`) warns when a later integration replaced the wrapper.
 */
export function wrapImageService() {
  let inner = "astro/assets/services/sharp";
  return {
    setup(config: AstroConfig) {
      const service = config.image.service;
      // A second setup (a dev server restart) finds the wrapper already there: the inner service stays.
      if (service.entrypoint !== MARKING_SERVICE) inner = service.entrypoint;
      return {
        image: { service: { entrypoint: MARKING_SERVICE, config: service.config } },
        vite: { plugins: [configuredServicePlugin(() => inner)] },
      };
    },
    check(config: AstroConfig, logger: AstroIntegrationLogger) {
      if (config.image.service.entrypoint === MARKING_SERVICE) return;
      logger.warn(
        `Another integration set image.service to "${config.image.service.entrypoint}" after astro-grok-image: ` +
          "files Astro encodes from grok images (<Image>, <Picture>, getImage(), Markdown) ship without the " +
          "AI-generated XMP marking. List astro-grok-image after that integration to keep it.",
      );
    },
  };
}
