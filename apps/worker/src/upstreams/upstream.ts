import type { ImageOptions, ImageUsage, ModelParameters } from "@imagegen/shared";

/** OpenAI's standard fields an upstream may carry under its own names; the API refused what it cannot. */
export type UpstreamOptions = Pick<ImageOptions, "quality" | "style" | "moderation" | "background" | "inputFidelity" | "user" | "safetyIdentifier">;

/** What a worker asks of a GPU server, in our own terms. */
export interface UpstreamImageRequest {
  /** The model name the upstream knows (may differ from the public id). */
  model: string;
  prompt: string;
  n: number;
  size: string;
  parameters: ModelParameters;
  options?: UpstreamOptions | undefined;
  /** Set for an edit: the caller's images (and mask), read back from storage. */
  edit?: EditInputs | undefined;
  /** Set when the caller streams: where the upstream's previews go, if its protocol has them. */
  partials?: UpstreamPartials | undefined;
}

/** A streaming caller's partial images: adapters hand each upstream preview to `emit`, at most `count`. */
export interface UpstreamPartials {
  count: number;
  emit(image: Buffer): void;
}

export interface InputImage {
  bytes: Buffer;
  contentType: string;
}

export interface EditInputs {
  images: InputImage[];
  /** OpenAI's convention: a PNG whose transparent pixels mark the area to edit. */
  mask?: InputImage | undefined;
}

export interface GeneratedImage {
  bytes: Buffer;
  contentType: string;
  revisedPrompt?: string | undefined;
  /** The reply's token usage, carried by the first image of a reply that reported one. */
  usage?: ImageUsage | undefined;
}

/**
 * One GPU server, whatever protocol it speaks. `generate` makes a single
 * attempt; retries, slots and deadlines are decided by the caller.
 */
export interface ImageUpstream {
  readonly name: string;
  readonly protocol: string;
  generate(request: UpstreamImageRequest, signal: AbortSignal): Promise<GeneratedImage[]>;
  /**
   * A cheap readiness check in the protocol's own terms — never a
   * generation. Resolves when the server can take work; throws an
   * UpstreamAttemptError otherwise.
   */
  probe(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export type UpstreamFailureKind = "http" | "connection" | "timeout" | "invalid_response";

/**
 * A failed attempt, described well enough to decide whether to retry and
 * what to tell the caller. Adapters throw only this.
 */
export class UpstreamAttemptError extends Error {
  override name = "UpstreamAttemptError";
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; upstreamMessage?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
  }
}

/** Sniffs the image type from its first bytes; anything else is not an image. */
export function imageContentType(bytes: Buffer): string | undefined {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return "image/png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.length >= 12 && bytes.toString("latin1", 0, 4) === "RIFF" && bytes.toString("latin1", 8, 12) === "WEBP") {
    return "image/webp";
  }
  return undefined;
}
