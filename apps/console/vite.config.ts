import { defineConfig } from "vite";

// Served by the API at /console/: hashed file names (cached for a year by
// the API), nothing inlined (the CSP allows only our own files), no source
// maps shipped.
export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
  },
});
