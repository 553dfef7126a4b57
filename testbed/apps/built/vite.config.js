import { defineConfig } from "vite";

// Like laravel-vite-plugin's output: hashed files and a manifest under public/build, which
// public/index.php reads to name the built asset.
export default defineConfig({
  publicDir: false,
  build: {
    outDir: "public/build",
    emptyOutDir: true,
    manifest: "manifest.json",
    rollupOptions: { input: "resources/js/app.js" },
  },
});
