/// <reference types="vite-plugin-grok-image/client" />
