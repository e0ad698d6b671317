export * from "./image-store.js";
export * from "./object-key.js";
export * from "./url-signing.js";
export * from "./fs-store.js";
export * from "./s3-settings.js";
export * from "./config.js";
export * from "./file-store.js";
