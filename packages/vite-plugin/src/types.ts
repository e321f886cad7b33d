/**
 * The shared vocabulary of grok-image: public option and result types, and the internal records that the
 * directive parser, the API client, the cache, the optimizer and the engine pass between them.
 * Public types are re-exported from `index.ts` with `export type`.
 */

export type Tier = "lite" | "standard" | "pro";
export type OutputFormat = "webp" | "avif" | "jpeg" | "png";
export type Fit = "cover" | "contain" | "inside" | "outside" | "fill";
export type Mode = "generate" | "frozen" | "placeholder";
/** Crop anchor for `fit=cover`: the centre, or one of sharp's strategies (`attention`: salient regions, `entropy`: detail). */
export type Position = "center" | "attention" | "entropy";
/** The inline preview: a tiny blurred `data:` URI, the dominant colour (`#rrggbb`), or nothing. */
export type PlaceholderKind = "blur" | "color" | "none";
/** What a `grok:` import's default export is (`as=`): one image object, a `srcset` string, or a `<picture>` description. */
export type OutputShape = "metadata" | "srcset" | "picture";

/** Options of the Vite plugin and the Astro integration (SPEC section 3). */
export interface GrokImageOptions {
  /** Bearer token for MaxAPI. Never logged, never written to any file or error. @default process.env.MAXAPI_KEY */
  apiKey?: string;
  /** API origin. Point it at `maxapi-emulator` for tests. @default process.env.MAXAPI_BASE_URL ?? "https://api.maxapi.io" */
  baseUrl?: string;
  /** Default tier for directives without `?tier=`. @default "lite" */
  tier?: Tier;
  /** The cache directory, relative to the project root. @default process.env.GROK_IMAGE_CACHE_DIR ?? ".grok-images" */
  cacheDir?: string;
  /** What a cache miss does. @default process.env.GROK_IMAGE_MODE ?? (CI ? "frozen" : "generate") */
  mode?: Mode;
  /**
   * MaxAPI tasks in flight at once (from submit until the task is terminal; downloads run outside it). `"auto"`
   * starts at 8, grows while the API accepts without a 429, and halves on a 429 (honouring `Retry-After`), up to
   * 64; a number fixes it. @default "auto"
   */
  concurrency?: number | "auto";
  /** Seconds one task may take, submit to downloaded. @default 300 */
  timeout?: number;
  /** USD budget for the misses of one build. @default process.env.GROK_IMAGE_MAX_COST ?? no limit */
  maxCost?: number;
  /** Default output format. @default "webp" */
  format?: OutputFormat;
  /** Default encoder quality, 1-100. @default 80 */
  quality?: number;
  /**
   * The inline preview of each image, unless a directive says `placeholder=`: `"blur"` (or `true`) a tiny blurred
   * data URI, `"color"` the dominant colour, `"none"` (or `false`) nothing. @default false
   */
  placeholder?: boolean | PlaceholderKind;
  /** Write the IPTC "trainedAlgorithmicMedia" XMP marking into every output. @default true */
  provenance?: boolean;
  /** Passed to submit as `callBackUrl`; polling still runs. @default undefined */
  callBackUrl?: string;
  /**
   * Named prompt presets for the `style=<name>` directive param: the preset's text is appended to the prompt sent
   * (so it is part of the generation key). One place sets a site's look.
   * @default {}
   * @example styles: { ink: "black ink line drawing, white paper", film: "35mm film photo, soft grain" }
   */
  styles?: Record<string, string>;
  /** The style of directives without `style=` (a name from `styles`); `style=none` opts a directive out. @default none */
  style?: string;
  /**
   * A shared cache behind the local one, on S3-compatible storage (SPEC section 12): `"s3://bucket/prefix"`, or an
   * object to set the endpoint and region too; `false` turns off one set in the environment. Credentials are read
   * from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), never from options.
   * @default process.env.GROK_IMAGE_REMOTE_CACHE ?? none
   * @example remoteCache: { url: "s3://acme-site/grok-images", endpoint: "https://<account>.r2.cloudflarestorage.com", region: "auto" }
   */
  remoteCache?: string | RemoteCacheOptions | false;
}

/** The object form of the `remoteCache` option. */
export interface RemoteCacheOptions {
  /** `s3://<bucket>/<prefix>` (the prefix may be empty), or `file:///<directory>` for a shared directory. */
  url: string;
  /**
   * The S3 API origin of an S3-compatible store (R2, MinIO, Backblaze B2...), addressed path-style
   * (`<endpoint>/<bucket>/<key>`). @default process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? AWS S3
   */
  endpoint?: string;
  /** The region requests are signed for (`auto` on R2). @default process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1" */
  region?: string;
}

/** Options after defaults and environment variables, validated. Frozen; read-only everywhere. */
export interface ResolvedOptions {
  readonly apiKey: string | undefined;
  readonly baseUrl: string;
  readonly tier: Tier;
  /** Absolute path. */
  readonly cacheDir: string;
  readonly mode: Mode;
  readonly concurrency: number | "auto";
  /** Milliseconds. */
  readonly timeoutMs: number;
  readonly maxCost: number | undefined;
  readonly format: OutputFormat;
  readonly quality: number;
  readonly placeholder: PlaceholderKind;
  readonly provenance: boolean;
  readonly callBackUrl: string | undefined;
  /** Prompt presets by name, frozen. */
  readonly styles: Readonly<Record<string, string>>;
  /** The default style's name, or undefined. */
  readonly style: string | undefined;
  /** The shared cache, when one is configured. */
  readonly remoteCache?: ResolvedRemoteCache | undefined;
  /** Absolute project root. */
  readonly root: string;
}

/** Access keys of the shared cache, as the AWS tools read them from the environment. */
export interface RemoteCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string | undefined;
}

/** The shared cache after options and environment: where it is, and how to reach it. Never holds a secret in view. */
export interface ResolvedRemoteCache {
  /** `s3://bucket/prefix` or `file:///dir`, as messages name it. */
  readonly url: string;
  readonly kind: "s3" | "file";
  /** S3: the bucket; file: the absolute directory. */
  readonly bucket: string;
  /** Object names start with `<prefix>/` (no leading or trailing slash; empty for the bucket's root). */
  readonly prefix: string;
  /** S3: the origin requests go to. */
  readonly endpoint: string;
  readonly region: string;
  /** `<endpoint>/<bucket>/<key>` rather than `<bucket>.<endpoint host>/<key>`. */
  readonly pathStyle: boolean;
  /**
   * The credentials from the environment (or the AWS profile it names), or undefined when none are set. A function, so no dump of the options
   * (`JSON.stringify`, `util.inspect`, Vite's `--debug`) can show them.
   */
  readonly credentials: () => RemoteCredentials | undefined;
  /** What to do when `credentials()` finds none: where they were looked for, and what to set. */
  readonly credentialsHint: () => string;
  /**
   * Where the keys of the role this machine runs as can be fetched when `credentials()` has none (a container's
   * credentials endpoint, or an EC2 instance's metadata service); undefined when nowhere. A function, as above:
   * its authorization token is a secret.
   */
  readonly credentialSource: () => CredentialSource | undefined;
}

export type CredentialSource =
  | {
      readonly kind: "container";
      readonly url: string;
      readonly authorization: string | undefined;
      /** A file holding the authorization token, read on each fetch (EKS Pod Identity rotates it). */
      readonly authorizationFile: string | undefined;
    }
  | { readonly kind: "instance"; readonly endpoint: string }
  | {
      readonly kind: "process";
      /** The profile's `credential_process`, run through the shell as the AWS SDK for JavaScript runs it. */
      readonly command: string;
      /** The profile it is set in, for messages. */
      readonly profile: string;
    };

/** Everything the API sees, plus `v`. Two directives with equal generations share one paid task. */
export interface Generation {
  /** `grok-imagine/text-to-image-<tier>` */
  readonly model: string;
  readonly tier: Tier;
  /** Normalized: percent-decoded, trimmed, inner whitespace collapsed. */
  readonly prompt: string;
  readonly n: number;
  readonly ratio: string | null;
  readonly resolution: string | null;
  /** Variant token: a separate generation for the same prompt. Never sent to the API. */
  readonly v: string | null;
}

/** How an original becomes the file a page ships. Changing it never generates again. */
export interface Transform {
  readonly w: number | null;
  readonly h: number | null;
  /** `null` means sharp's default; `cover` is filled in when both w and h are given. */
  readonly fit: Fit | null;
  readonly format: OutputFormat;
  readonly quality: number;
  /** Crop anchor when the fit is `cover`. `undefined` means the centre. */
  readonly position?: Position | undefined;
}

export interface Directive {
  /** The id as written, e.g. `grok:a misty forest?tier=pro&w=640`. */
  readonly raw: string;
  readonly generation: Generation;
  /** Stable hex digest of the generation (machine-independent). */
  readonly generationKey: string;
  readonly transform: Transform;
  /** `pick=k`: the 1-based index among the task's `n` images of the default export. Never part of the key. */
  readonly pick: number;
  /**
   * How the image is handed to the host: `"encoded"` is the file a page ships (plain Vite); `"source"` is the
   * original's pixels for a host that encodes images itself (Astro). @default "encoded"
   */
  readonly handoff?: "encoded" | "source";
  /** The `alt` export: the `alt=` param, else the prompt as written (without the style's text). */
  readonly alt: string;
  /** The `style=` name applied (its text is already in `generation.prompt`), or null. */
  readonly style: string | null;
  /** The inline preview of each image. */
  readonly placeholder: PlaceholderKind;
  /**
   * The default export's shape (`as=`) and, for `srcset`/`picture`, every width (`null`: the original's) and format
   * of it. `transform` is then the `<img>` fallback: the last format at the largest width.
   */
  readonly output: DirectiveOutput;
}

/** `as=` with the widths and formats it asks for (`w=320;640`, `format=avif;webp`). */
export interface DirectiveOutput {
  readonly as: OutputShape;
  readonly widths: readonly (number | null)[];
  readonly formats: readonly OutputFormat[];
}

/** One downloaded original, as recorded in the manifest. */
export interface OriginalRecord {
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
  /** sharp's format name of the bytes: `jpeg`, `png`, `webp`... */
  readonly format: string;
  readonly bytes: number;
}

/** One `manifest.json` entry: the generation key maps to this. */
export interface ManifestEntry {
  readonly model: string;
  readonly prompt: string;
  readonly n: number;
  readonly ratio: string | null;
  readonly resolution: string | null;
  readonly v: string | null;
  readonly taskId: string;
  /** ISO-8601. */
  readonly createdAt: string;
  readonly originals: readonly OriginalRecord[];
}

/** A derived file (a variant) and what the module exports about it. */
export interface VariantRecord {
  /** Absolute path of the file in `variants/` (or of a placeholder image). */
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly format: OutputFormat;
  /** The inline preview when one is asked for: a `data:` URI (blur) or a `#rrggbb` colour (color). */
  readonly placeholder?: string;
}

/** The shape each import exposes, like Astro's `ImageMetadata` plus grok fields. */
export interface GrokImage {
  src: string;
  width: number;
  height: number;
  format: OutputFormat;
  prompt: string;
  model: string;
  index: number;
  /** A tiny `data:` URI (`placeholder=blur`) or the dominant colour as `#rrggbb` (`placeholder=color`). */
  placeholder?: string;
}

/** The default export of `as=picture`: one `srcset` per format, and the `<img>` fallback (the last format). */
export interface GrokPicture {
  sources: Partial<Record<OutputFormat, string>>;
  img: { src: string; width: number; height: number; placeholder?: string };
}
