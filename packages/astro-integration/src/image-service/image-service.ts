/*
 * The entrypoint Astro loads as `image.service` (`astro-grok-image/image-service`) when the integration marks
 * Astro's outputs: the service the project configured, wrapped by `markingService`. The configured one is reached
 * through a virtual module that the integration's Vite plugin points at its entrypoint.
 */
import inner from "virtual:grok-image/configured-image-service";
import { markingService } from "./marking-service.js";

export default markingService(inner);
