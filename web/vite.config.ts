import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The service serves the build at `/`; `npm run dev` proxies the API and Socket.IO to a
// service started with `python3 dev.py run`.
const service = process.env.TURUMBA_SERVICE_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2048 },
  server: {
    proxy: {
      "/v1": service,
      "/socket.io": { target: service, ws: true },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
  },
});
