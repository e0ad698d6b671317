/**
 * Object keys are built here and nowhere else. The key is a pure function of
 * the request, so a job that runs twice (a worker died mid-way) overwrites
 * its own objects instead of leaving duplicates. The date prefix lets
 * operators expire old images with a bucket lifecycle rule.
 */
const SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

const EXTENSIONS: Readonly<Record<string, string>> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };
const CONTENT_TYPES: Readonly<Record<string, string>> = { png: "image/png", jpg: "image/jpeg", webp: "image/webp" };

export function imageObjectKey(parts: {
  workspaceId: string;
  requestId: string;
  index: number;
  createdAt: Date;
  contentType: string;
}): string {
  if (!SEGMENT.test(parts.workspaceId) || !SEGMENT.test(parts.requestId)) {
    throw new Error("workspace and request ids must be URL-safe identifiers");
  }
  const extension = EXTENSIONS[parts.contentType];
  if (!extension) throw new Error(`unsupported image type ${parts.contentType}`);
  const day = parts.createdAt.toISOString().slice(0, 10);
  return `images/${day}/${parts.workspaceId}/${parts.requestId}-${parts.index}.${extension}`;
}

/**
 * Where an edit's input images and mask wait for the worker: a separate
 * prefix (never served through image links), dated like images so a
 * bucket lifecycle rule can expire them.
 */
export function inputObjectKey(parts: {
  workspaceId: string;
  requestId: string;
  /** `image-0`, `image-1`, … or `mask`. */
  role: string;
  createdAt: Date;
  contentType: string;
}): string {
  if (!SEGMENT.test(parts.workspaceId) || !SEGMENT.test(parts.requestId) || !/^(image-\d{1,2}|mask)$/.test(parts.role)) {
    throw new Error("workspace and request ids must be URL-safe identifiers");
  }
  const extension = EXTENSIONS[parts.contentType];
  if (!extension) throw new Error(`unsupported image type ${parts.contentType}`);
  const day = parts.createdAt.toISOString().slice(0, 10);
  return `inputs/${day}/${parts.workspaceId}/${parts.requestId}-${parts.role}.${extension}`;
}

const INPUT_KEY_PATTERN = /^inputs\/\d{4}-\d{2}-\d{2}\/[A-Za-z0-9_-]{1,128}\/[A-Za-z0-9_-]{1,128}-(image-\d{1,2}|mask)\.(png|jpg|webp)$/;

export function isInputObjectKey(key: string): boolean {
  return INPUT_KEY_PATTERN.test(key);
}

/** Accepts exactly the keys imageObjectKey makes: no traversal, no surprises. */
export const IMAGE_KEY_PATTERN = /^images\/\d{4}-\d{2}-\d{2}\/[A-Za-z0-9_-]{1,128}\/[A-Za-z0-9_-]{1,128}-\d{1,3}\.(png|jpg|webp)$/;

/** The media type of an image object, from its key. */
export function imageContentTypeOfKey(key: string): string {
  return CONTENT_TYPES[key.slice(key.lastIndexOf(".") + 1)] ?? "application/octet-stream";
}

export function isImageObjectKey(key: string): boolean {
  return IMAGE_KEY_PATTERN.test(key);
}
