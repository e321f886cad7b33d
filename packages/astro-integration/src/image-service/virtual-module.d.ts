declare module "virtual:grok-image/configured-image-service" {
  import type { ImageService } from "astro";

  const service: ImageService;
  export default service;
}
